import Foundation
import OmegaCore

/// The offline backend: deterministic, plausible answers with exact token
/// counts, for dry runs, forecasts and tests. No network.
///
/// An answer depends only on the model, the prompt and the sample number. Its
/// length is a fraction of the request's `max-tokens` drawn from
/// [`minRatio`, `maxRatio`]; a draw at or above 1 is cut at `max-tokens` with
/// finish reason `length`. The text is built from words that are single tokens
/// in the model's encoding, so its token count is exact, and it is counted
/// again with the tokenizer before it is reported.
///
/// Faults for tests: the request option `simulate-fault` (or `fault` in the
/// configuration) = `rate-limit`, `server-error`, `timeout` or `cut-stream`;
/// `simulate-overrun` = N answers N × max-tokens long (a server that ignores it).
public struct SimulatorBackend: ModelBackend {
    public let name = "simulate"
    /// Shortest and longest answers, as fractions of `max-tokens`.
    public var minRatio: Double = 0.3
    /// The longest answer, as a fraction of `max-tokens` (at most 1 unless overrun is asked for).
    public var maxRatio: Double = 1.2
    /// Simulated latency in seconds per call (0: answer at once).
    public var latency: Double = 0
    /// A fault every call suffers (nil: none).
    public var fault: String?
    /// The faults it can simulate.
    public static let faults = ["rate-limit", "server-error", "timeout", "cut-stream"]
    let tokens: TokenCounter

    /// A simulator counting with `tokens`.
    public init(tokens: TokenCounter = TokenCounter()) {
        self.tokens = tokens
    }

    static let words = ["the", "model", "budget", "report", "shows", "that", "costs", "and", "tokens", "are",
                        "within", "limits", "while", "each", "call", "is", "metered", "before", "it", "runs",
                        "summary", "of", "results", "for", "this", "week", "team", "review", "notes", "plan",
                        "data", "value", "time", "work", "first", "next", "also", "more", "less", "key",
                        "points", "include", "clear", "short", "answer", "should", "will", "can", "we", "our"]

    public func infer(_ request: InferenceRequest) async throws -> InferenceResult {
        let started = Date()
        let delay = request.simulation.latency ?? latency
        if let fault = request.simulation.fault ?? fault {
            switch fault {
            case "rate-limit": throw BackendError(.rateLimited, "simulated rate limit (429)", retryAfter: 1, status: 429)
            case "server-error": throw BackendError(.server, "simulated server error (500)", status: 500)
            case "timeout":
                try await Task.sleep(nanoseconds: CheckedNumber.sleepNanoseconds(request.timeout) + 1_000_000)
                throw BackendError(.timeout, "simulated timeout")
            case "cut-stream": break
            default: throw BackendError(.client, "unknown simulate-fault '\(fault)' (rate-limit, server-error, timeout, cut-stream)")
            }
        }
        if delay > 0 { try await Task.sleep(nanoseconds: CheckedNumber.sleepNanoseconds(delay)) }
        try Task.checkCancellation()
        return try answer(request, started: started)
    }

    /// At zero latency and without a fault the answer needs no waiting.
    public func answerNow(_ request: InferenceRequest) -> Result<InferenceResult, Error>? {
        let delay = request.simulation.latency ?? latency
        guard delay <= 0, (request.simulation.fault ?? fault) == nil else { return nil }
        return Result { try answer(request, started: Date()) }
    }

    /// The answer itself: deterministic text of a drawn length, counted exactly.
    func answer(_ request: InferenceRequest, started: Date) throws -> InferenceResult {
        var rng = SplitMix64(seed: SimulatorBackend.seed(request))
        let ratio = minRatio + (maxRatio - minRatio) * rng.unit()
        var target = max(1, CheckedNumber.int(Double(request.maxTokens) * ratio) ?? 1)
        var finish = "stop"
        // `simulate-overrun N`: a server that ignores max-tokens and answers N times longer.
        let overrun = request.simulation.overrun ?? 0
        // At most 10 million tokens: a simulated overrun is an overrun, not an allocation of the whole memory.
        if overrun > 0 { target = max(1, min(CheckedNumber.int(Double(request.maxTokens) * overrun) ?? 10_000_000, 10_000_000)) }
        if target >= request.maxTokens && overrun <= 0 {
            target = request.maxTokens
            finish = "length"
        }
        let cut = request.simulation.fault ?? fault == "cut-stream"
        if cut { target = max(1, target / 2) }
        var text = ""
        var sentenceStart = true
        for i in 0..<target {
            var w = SimulatorBackend.words[Int(rng.next() % UInt64(SimulatorBackend.words.count))]
            if sentenceStart { w = w.prefix(1).uppercased() + w.dropFirst() }
            text += (i == 0 ? "" : " ") + w
            sentenceStart = false
            // Sentences of about 6 to 14 words.
            if i > 0 && i % 6 == 5 && rng.next() % 3 == 0 || i == target - 1 {
                text += "."
                sentenceStart = true
            }
        }
        var output = tokens.count(text, model: request.model)
        // Fit the answer to max-tokens: a word that is two tokens, or the
        // full stops, must not push it past; an answer cut at max-tokens is
        // exactly max-tokens long, as a server's is. Whole deficits or
        // excesses at a time, so the text is counted a few times, not once
        // per word.
        for _ in 0..<16 {
            if output.tokens > request.maxTokens && overrun <= 0 {
                var t = Substring(text), dropped = 0
                while dropped < output.tokens - request.maxTokens, let space = t.lastIndex(of: " ") {
                    t = t[..<space]
                    dropped += 1
                }
                if dropped == 0 { break }
                text = String(t)
            } else if finish == "length" && output.tokens < request.maxTokens {
                for _ in 0..<(request.maxTokens - output.tokens) {
                    text += " " + SimulatorBackend.words[Int(rng.next() % UInt64(SimulatorBackend.words.count))]
                }
            } else {
                break
            }
            output = tokens.count(text, model: request.model)
        }
        // A server honours max-tokens exactly, so the simulator must too,
        // whatever the counts are (estimates move in steps of several
        // characters): drop words, then characters, until the answer fits.
        while overrun <= 0 && output.tokens > request.maxTokens && !text.isEmpty {
            if let space = text.lastIndex(of: " ") {
                text = String(text[..<space])
            } else {
                text.removeLast()
            }
            output = tokens.count(text, model: request.model)
        }
        let input = request.promptTokens
        let usage = TokenUsage(inputTokens: input.tokens, outputTokens: output.tokens)
        if cut {
            var e = BackendError(.cutStream, "simulated cut stream after \(output.tokens) tokens")
            e.billed = usage
            throw e
        }
        return InferenceResult(
            text: text, model: request.model, finishReason: finish, usage: usage,
            usageSource: input.exact && output.exact ? .counted : .estimated,
            latency: Date().timeIntervalSince(started), backend: name, requestID: request.id, simulated: true)
    }

    /// The seed: a hash (64-bit FNV-1a, stable across runs and machines) of
    /// model, prompt and sample number.
    static func seed(_ r: InferenceRequest) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        }
        mix(r.model.utf8); mix(CollectionOfOne(0))
        for m in r.messages { mix(m.role.utf8); mix(CollectionOfOne(1)); mix(m.content.utf8); mix(CollectionOfOne(2)) }
        mix(String(r.sample).utf8)
        return h
    }
}

/// A small deterministic random generator (SplitMix64).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A number in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
