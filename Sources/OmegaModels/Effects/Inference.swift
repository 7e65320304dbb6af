import Foundation
import OmegaCore

/// One model call as it leaves the evaluator: everything a handler, the meter
/// and a backend need to know about it.
public struct InferenceRequest: Sendable, Equatable {
    /// A unique id (`req-…`), carried into results, receipts and errors.
    public var id: String
    /// The operation that asked (`infer.op`, `int.op`, `search.op`).
    public var operation: String
    /// What to send.
    public var prompt: Prompt
    /// The model asked for.
    public var model: String
    /// The most output tokens the call may produce (the meter reserves this).
    public var maxTokens: Int
    /// Sampling temperature, when the call set one.
    public var temperature: Double?
    /// Stop sequences.
    public var stop: [String]
    /// A system message sent before the prompt.
    public var system: String?
    /// The agent and workflow the call is made for (`with-agent`, `with-workflow`).
    public var agent: String?
    /// The workflow the call is made for (`with-workflow`), if any.
    public var workflow: String?
    /// The prompt's tokens, counted before sending (exact or labelled estimate).
    public var promptTokens: TokenCount
    /// Seconds before the call is abandoned with a timeout error.
    public var timeout: Double
    /// Which sample of a `search.op` this is (0 for a single call).
    public var sample: Int
    /// Stream this answer (`'stream #t`); nil: the backend's configured default.
    public var stream: Bool?
    /// Fields added to the provider's request body as they are
    /// (`'provider-fields '((top_p . 0.9) (seed . 7))`): what Omega has no
    /// option for. Fields that would change what the meter reserved
    /// (`max_tokens`, `n`, `model`, `stream` …) are refused where the option
    /// is read.
    public var providerFields: [String: JSONValue] = [:]
    /// The offline simulator's per-call options (`simulate-latency`,
    /// `simulate-fault`, `simulate-overrun`); other backends ignore them.
    public var simulation = SimulationOptions()
    /// Options no part of Omega interprets, kept for handlers
    /// (`effect-request-option`) and as part of the request's identity.
    public var extra: [String: JSONValue]
    /// The shared budgets the call is charged to (`with-shared-budget`), innermost first.
    public var sharedBudgets: [String] = []
    /// The `with-budget` scopes the call was made in, innermost first.
    public var budgetScopes: [Int] = []
    /// A handler approved this one call past its budget.
    public var budgetApproved = false
    /// The prompt tokens the meter reserved: `promptTokens` when that count
    /// is what the provider bills, else a calibrated upper bound (`InputBounds`).
    public var inputBound: Int?
    /// Where the user's program made the call, for errors.
    public var callSite: SourceLocation?

    /// A request; the id is fresh unless given.
    public init(id: String = InferenceRequest.newID(), operation: String = "infer.op", prompt: Prompt, model: String,
                maxTokens: Int, temperature: Double? = nil, stop: [String] = [], system: String? = nil,
                agent: String? = nil, workflow: String? = nil, promptTokens: TokenCount, timeout: Double = 120,
                sample: Int = 0, extra: [String: JSONValue] = [:]) {
        self.id = id
        self.operation = operation
        self.prompt = prompt
        self.model = model
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.stop = stop
        self.system = system
        self.agent = agent
        self.workflow = workflow
        self.promptTokens = promptTokens
        self.timeout = timeout
        self.sample = sample
        self.extra = extra
    }

    /// A fresh request id.
    public static func newID() -> String {
        // 64 random bits, as 16 hex digits (Foundation's UUID string work cost
        // more than the rest of a simulated call).
        let hex = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return "req-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The messages to send: the system message (if any) and the prompt.
    public var messages: [ChatMessage] {
        var ms: [ChatMessage] = []
        if let s = system { ms.append(ChatMessage(role: "system", content: s)) }
        switch prompt {
        case .text(let t): ms.append(ChatMessage(role: "user", content: t))
        case .messages(let m): ms.append(contentsOf: m)
        }
        return ms
    }
}

/// The simulator's options for one call, checked where Scheme gave them.
public struct SimulationOptions: Sendable, Equatable, Hashable {
    /// Seconds before the answer (over `[simulate] latency`).
    public var latency: Double?
    /// A fault to produce instead of an answer: `rate-limit`, `server-error`,
    /// `timeout`, `cut-stream`.
    public var fault: String?
    /// Answer with this many times `max-tokens` (a server that ignores it).
    public var overrun: Double?
    /// Options as a call gives them (nil: the backend's default).
    public init(latency: Double? = nil, fault: String? = nil, overrun: Double? = nil) {
        self.latency = latency
        self.fault = fault
        self.overrun = overrun
    }
}

/// Where a result's token numbers come from.
public enum UsageSource: String, Sendable, Equatable {
    /// The provider reported them.
    case reported
    /// Omega counted the prompt and the received text exactly (the provider
    /// sent no usage, and the model's tokenizer is Omega's).
    case counted
    /// The provider sent no usage and Omega's count is not the model's:
    /// upper bounds, never too low (the prompt's calibrated bound, the
    /// answer's count scaled the same way).
    case bounded
    /// Estimated (no tokenizer for the model, and no meter to bound it).
    case estimated
}

/// A model's answer with what it cost.
public struct InferenceResult: Sendable, Equatable {
    /// The answer's text.
    public var text: String
    /// The model that answered (as the provider names it).
    public var model: String
    /// `stop`, `length`, or what the provider said.
    public var finishReason: String
    /// Tokens by kind.
    public var usage: TokenUsage
    /// Where those numbers come from.
    public var usageSource: UsageSource
    /// The exact cost, when the model has a price. Backends leave it nil —
    /// they report usage — and the meter sets it when it settles the call,
    /// so money is priced in one place (zero for a cache hit).
    public var cost: Money?
    /// Seconds from sending to the complete answer.
    public var latency: Double
    /// The backend's name (`simulate`, `openai`…).
    public var backend: String
    /// The request it answers.
    public var requestID: String
    /// True for the offline simulator's answers.
    public var simulated: Bool

    /// A result (the meter sets `cost` when it settles the call).
    public init(text: String, model: String, finishReason: String, usage: TokenUsage, usageSource: UsageSource,
                cost: Money? = nil, latency: Double, backend: String, requestID: String, simulated: Bool = false) {
        self.text = text
        self.model = model
        self.finishReason = finishReason
        self.usage = usage
        self.usageSource = usageSource
        self.cost = cost
        self.latency = latency
        self.backend = backend
        self.requestID = requestID
        self.simulated = simulated
    }
}

/// A failed model call.
public struct BackendError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of failure, which decides retries and how a script sees it (`effect-error-kind`).
    public enum Kind: String, Sendable {
        case rateLimited = "rate-limited"
        case server = "server-error"
        case timeout
        case cancelled
        case badResponse = "bad-response"
        case connection
        case client = "request-error"
        case notRecorded = "not-recorded"
        case cutStream = "cut-stream"
    }
    /// What kind of failure.
    public var kind: Kind
    /// What went wrong, without secrets.
    public var message: String
    /// Seconds the server asked to wait (`Retry-After`).
    public var retryAfter: Double?
    /// HTTP status, when there was one.
    public var status: Int?
    /// What the provider will bill for a call that failed part-way (a cut
    /// stream: the prompt and the tokens received, counted locally).
    public var billed: TokenUsage?

    /// A failure of `kind`.
    public init(_ kind: Kind, _ message: String, retryAfter: Double? = nil, status: Int? = nil) {
        self.kind = kind
        // Every error a backend reports, by whatever path, loses the keys here.
        self.message = Secrets.scrub(message)
        self.retryAfter = retryAfter
        self.status = status
    }

    /// Whether trying again may help (429, 5xx, connection errors).
    public var isRetryable: Bool { kind == .rateLimited || kind == .server || kind == .connection }

    public var description: String { message }
}

/// A model service: the simulator, an HTTP API, a replay file, or a host's own.
public protocol ModelBackend: Sendable {
    /// The name results and reports show (`simulate`, `openai`…).
    var name: String { get }
    /// Answers one request. Throws `BackendError`; must honour task cancellation.
    func infer(_ request: InferenceRequest) async throws -> InferenceResult
    /// The answer, when the backend can give it at once without waiting for
    /// anything (the simulator at zero latency, a replay file); nil: send it
    /// with `infer`. Spares the thread hop a call in flight needs.
    func answerNow(_ request: InferenceRequest) -> Result<InferenceResult, Error>?
}

extension ModelBackend {
    public func answerNow(_ request: InferenceRequest) -> Result<InferenceResult, Error>? { nil }
}
