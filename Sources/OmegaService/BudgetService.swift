import Foundation
import OmegaCore
import OmegaModels

/// The meter and ledger of `omega serve`, shared by every client: what the
/// JSON-RPC methods, the OpenAI-compatible endpoint, the events and the
/// metrics are made of, without any HTTP.
///
/// One meter serves every request; it is not thread-safe, so every step
/// that touches it runs on one serial queue (`meterQueue`), off Swift's
/// cooperative threads (a ledger statement blocks its thread). Model calls
/// themselves run concurrently between their reserve and their settle,
/// covered by their reservations, as in a Scheme program.
///
/// Client reservations (`tokens.reserve`) that are neither settled nor
/// released within `reservationTimeout` are settled at their worst case:
/// the client may have made the call, and an unsettled call must not be
/// free (the rule the shared ledger's leases follow too).
public final class BudgetService: @unchecked Sendable {  // mutable state only on `meterQueue`
    /// What a request is made on behalf of: the API key's agent and workflow.
    public struct Caller: Sendable, Equatable {
        /// The key's name in the keys file (`-` without authentication).
        public var key: String
        /// The agent calls are charged to, if any.
        public var agent: String?
        /// The workflow calls are charged to, if any.
        public var workflow: String?
        /// The shared budgets calls are charged to (`[budget.shared]`), as `with-shared-budget` does.
        public var shared: [String]
        /// A caller; nil agent and workflow charge only the service-wide budgets.
        public init(key: String, agent: String? = nil, workflow: String? = nil, shared: [String] = []) {
            self.key = key
            self.agent = agent
            self.workflow = workflow
            self.shared = shared
        }
    }

    /// A reservation a client holds (`tokens.reserve`) until it settles or releases it.
    struct Pending {
        var request: InferenceRequest
        var reservation: AnyObject?
        var caller: Caller
        var created: Date
        var worst: Amounts
    }

    /// The name client-reported calls carry in the ledger (their counts are the provider's).
    static let clientBackend = "client"

    let meter: Meter
    let backend: ModelBackend
    let effectDefaults: EffectSettings
    let meterQueue = DispatchQueue(label: "omega.service.meter")
    /// Subscribers to `tokens.updated`.
    public let events = EventHub()
    /// Counters for `/metrics`.
    public let metrics = ServiceMetrics()
    /// The model requests use when they name none (read off the meter's queue, so kept here).
    public let defaultModel: String
    /// Seconds a client reservation may stay unsettled before it is charged at its worst case.
    public let reservationTimeout: Double
    /// Where the service logs (standard error by default).
    let log: @Sendable (String) -> Void
    private var pending: [String: Pending] = [:]
    private var inFlightChats = 0
    private var stopped = false

    /// A service on `meter` (its ledger shared with every other process and
    /// host that uses it) forwarding chat completions to `backend`.
    public init(meter: Meter, backend: ModelBackend, effectDefaults: EffectSettings = EffectSettings(),
                reservationTimeout: Double = 600,
                log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(("omega serve: " + $0 + "\n").utf8)) }) {
        self.meter = meter
        self.defaultModel = meter.models.defaultModel
        self.backend = backend
        self.effectDefaults = effectDefaults
        self.reservationTimeout = reservationTimeout
        self.log = log
        // Identical prompts from different agents are different calls here.
        meter.cacheEnabled = false
        meter.bounds.countingBackends.insert(BudgetService.clientBackend)
        meter.report = { message in log(message) }
    }

    /// Runs `body` on the meter's queue and returns its result.
    func onMeter<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { k in
            meterQueue.async { k.resume(with: Result { try body() }) }
        }
    }

    // MARK: Requests

    /// A request for `messages` (or a bare count of prompt tokens) to `model`.
    func makeRequest(model: String?, messages: [ChatMessage], promptTokens: Int?, maxTokens: Int?,
                     caller: Caller) throws -> InferenceRequest {
        let model = (model?.isEmpty == false ? model : nil) ?? meter.models.defaultModel
        let max = maxTokens ?? effectDefaults.defaultMaxTokens
        guard max >= 0, max <= 10_000_000 else {
            throw ServiceError.invalidParams("max_tokens must be between 0 and 10000000, got \(max)")
        }
        let count = promptTokens.map { TokenCount(tokens: $0, exact: true, encoding: nil, note: "reported by the client") }
            ?? meter.models.tokens.count(messages: messages, model: model)
        var request = InferenceRequest(prompt: .messages(messages), model: model, maxTokens: max, agent: caller.agent,
                                       workflow: caller.workflow, promptTokens: count, timeout: effectDefaults.timeout)
        request.sharedBudgets = caller.shared
        return request
    }

    /// Admits a request through the meter (on its queue): its reservation, or a `ServiceError`.
    private func admit(_ request: inout InferenceRequest, backend name: String) throws -> AnyObject? {
        guard !stopped else { throw ServiceError.unavailable("the service is shutting down") }
        do {
            switch try meter.admit(&request, backend: name) {
            case .send(let r), .sendShared(let r, _): return r
            case .answer(_, let r), .follow(_, let r):
                // The cache is off in the service; should an answer stand in, nothing was reserved.
                return r
            }
        } catch {
            metrics.refused(agent: request.agent)
            throw ServiceError.from(error)
        }
    }

    /// Settles a call on the meter (on its queue) and tells subscribers;
    /// the outcome, and what was charged.
    @discardableResult
    private func settle(_ request: InferenceRequest, _ reservation: AnyObject?,
                        _ outcome: Result<InferenceResult, Error>) -> (Result<InferenceResult, Error>, charged: Amounts) {
        let before = meter.runTotals
        let settled = meter.settle(request, reservation: reservation, outcome: outcome)
        let charged = meter.runTotals - before
        if meter.isStopped {
            // One client's reply past its reservation stops a Scheme run; a
            // shared service goes on (the excess was charged and alerted).
            log("\(meter.emergency?.message ?? "emergency stop"); the service goes on")
            meter.clearEmergency()
        }
        metrics.settled(model: request.model, agent: request.agent, charged: charged)
        publishUpdate(request: request, charged: charged)
        return (settled, charged)
    }

    /// Takes the caller's open reservation `id` out of the table (on the meter's queue).
    private func take(_ id: String, caller: Caller) throws -> Pending {
        guard let p = pending[id], p.caller.key == caller.key else { throw ServiceError.unknownReservation(id) }
        pending[id] = nil
        metrics.setInFlight(pending.count + inFlightChats)
        return p
    }

    // MARK: JSON-RPC methods

    /// `tokens.reserve`: reserves a call's worst case (prompt tokens, given
    /// or counted from `messages`, plus `max_tokens`) against every budget
    /// the caller falls under; returns the reservation's id.
    public func reserve(model: String?, messages: [ChatMessage], promptTokens: Int?, maxTokens: Int?,
                        caller: Caller) async throws -> (id: String, worst: Amounts, model: String) {
        try await onMeter { [self] in
            expireAbandoned()
            var request = try makeRequest(model: model, messages: messages, promptTokens: promptTokens,
                                          maxTokens: maxTokens, caller: caller)
            let name = promptTokens != nil ? BudgetService.clientBackend : "service"
            let r = try admit(&request, backend: name)
            let worst = meter.reserved(by: r) ?? Amounts()
            let id = "res-" + request.id.dropFirst(4)
            pending[id] = Pending(request: request, reservation: r, caller: caller, created: Date(), worst: worst)
            metrics.setInFlight(pending.count + inFlightChats)
            return (id, worst, request.model)
        }
    }

    /// `tokens.settle`: replaces a reservation with the usage the provider reported.
    public func settle(id: String, usage: TokenUsage, model: String?, caller: Caller) async throws -> Amounts {
        try await onMeter { [self] in
            let p = try take(id, caller: caller)
            if let problem = BudgetService.implausible(usage) { throw ServiceError.invalidParams(problem) }
            let result = InferenceResult(text: "", model: model ?? p.request.model, finishReason: "stop", usage: usage,
                                         usageSource: .reported, latency: Date().timeIntervalSince(p.created),
                                         backend: BudgetService.clientBackend, requestID: p.request.id)
            return settle(p.request, p.reservation, .success(result)).charged
        }
    }

    /// `tokens.release`: gives a reservation back unused (the call was not made).
    public func release(id: String, caller: Caller) async throws {
        try await onMeter { [self] in
            let p = try take(id, caller: caller)
            settle(p.request, p.reservation, .failure(BackendError(.cancelled, "released by the client unused")))
        }
    }

    /// `tokens.reportUsage` (seed 002): charges a call already made, refused
    /// (nothing charged) when it would pass a limit.
    public func reportUsage(model: String?, promptTokens: Int, completionTokens: Int, caller: Caller) async throws -> Amounts {
        try await onMeter { [self] in
            let usage = TokenUsage(inputTokens: promptTokens, outputTokens: completionTokens)
            if let problem = BudgetService.implausible(usage) { throw ServiceError.invalidParams(problem) }
            var request = try makeRequest(model: model, messages: [], promptTokens: promptTokens,
                                          maxTokens: completionTokens, caller: caller)
            let r = try admit(&request, backend: BudgetService.clientBackend)
            let result = InferenceResult(text: "", model: request.model, finishReason: "stop", usage: usage,
                                         usageSource: .reported, latency: 0, backend: BudgetService.clientBackend,
                                         requestID: request.id)
            return settle(request, r, .success(result)).charged
        }
    }

    /// Usage no call can have, as a client error.
    static func implausible(_ u: TokenUsage) -> String? {
        for (name, n) in [("prompt_tokens", u.inputTokens), ("completion_tokens", u.outputTokens)] where n < 0 || n > 100_000_000 {
            return "\(name) must be between 0 and 100000000, got \(n)"
        }
        return nil
    }

    // MARK: The OpenAI-compatible endpoint

    /// Reserves, forwards to the backend, and settles from the reply's usage.
    public func complete(_ request: InferenceRequest) async throws -> InferenceResult {
        let admitted = try await onMeter { [self] in
            var r = request
            let reservation = try admit(&r, backend: backend.name)
            inFlightChats += 1
            metrics.setInFlight(pending.count + inFlightChats)
            return (r, UncheckedBox(reservation))
        }
        let request = admitted.0, reservation = admitted.1
        let outcome: Result<InferenceResult, Error>
        do {
            outcome = .success(try await backend.infer(request))
        } catch {
            outcome = .failure(error)
        }
        let settled: UncheckedBox<Result<InferenceResult, Error>> = try await onMeter { [self] in
            inFlightChats -= 1
            metrics.setInFlight(pending.count + inFlightChats)
            return UncheckedBox(settle(request, reservation.value, outcome).0)
        }
        do {
            return try settled.value.get()
        } catch {
            throw ServiceError.from(error)
        }
    }

    /// The request a chat completion asks for, counted and checked (on the meter's queue).
    public func chatRequest(model: String?, messages: [ChatMessage], maxTokens: Int?, temperature: Double?,
                            stop: [String], caller: Caller) async throws -> InferenceRequest {
        try await onMeter { [self] in
            var r = try makeRequest(model: model, messages: messages, promptTokens: nil, maxTokens: maxTokens, caller: caller)
            r.temperature = temperature
            r.stop = stop
            return r
        }
    }

    // MARK: Status

    /// `tokens.getBudget`: every budget a call by this caller (and model)
    /// falls under, read fresh from the ledger, plus seed 002's totals.
    public func budget(model: String?, caller: Caller) async throws -> JSONValue {
        try await onMeter { [self] in
            do {
                try meter.refreshFromLedger(model: model, agent: caller.agent, workflow: caller.workflow, shared: caller.shared)
            } catch {
                throw ServiceError.ledger("the ledger cannot be read: \(error)")
            }
            return try budgetReport(model: model, caller: caller)
        }
    }

    private func budgetReport(model: String?, caller: Caller) throws -> JSONValue {
        var scopes: [JSONValue] = []
        for s in meter.status(model: model, agent: caller.agent, workflow: caller.workflow, shared: caller.shared)
        where s.kind != .run || s.limit != nil {
            let percent = s.limit.map { JSONValue.number(Double(s.used + s.reserved) * 100 / Double(max($0, 1))) } ?? .null
            scopes.append(.object([
                "scope": .string(s.label), "kind": .string(s.kind.rawValue), "name": .string(s.name),
                "unit": .string(s.unit.rawValue), "limit": BudgetService.amount(s.limit, s.unit),
                "used": BudgetService.amount(s.used, s.unit), "reserved": BudgetService.amount(s.reserved, s.unit),
                "remaining": BudgetService.amount(s.remaining, s.unit), "percentage": percent,
            ]))
        }
        let (total, agents) = try totals()
        let limit = meter.policy.total[.tokens]
        var result: [String: JSONValue] = [
            "total_used": .integer(Int(total.tokens)),
            "total_cost_usd": .string(BudgetService.dollars(total.picodollars)),
            "total_calls": .integer(Int(total.calls)),
            "total_budget": limit.map { .integer(Int($0)) } ?? .null,
            "remaining_budget": limit.map { .integer(Int(max($0 - total.tokens, 0))) } ?? .null,
            "usage_percentage": limit.map { .number(Double(total.tokens) * 100 / Double(max($0, 1))) } ?? .null,
            "agent_totals": .object(agents.mapValues { .integer(Int($0.tokens)) }),
            "scopes": .array(scopes),
        ]
        if let agent = caller.agent { result["agent_id"] = .string(agent) }
        return .object(result)
    }

    /// The ledger's total since its reset, and each agent's.
    private func totals() throws -> (Amounts, [String: Amounts]) {
        guard let ledger = meter.ledger else { return (meter.runTotals, meter.usageBy["agent"] ?? [:]) }
        do {
            let total = try ledger.windowTotal("total")
            var agents: [String: Amounts] = [:]
            for (key, a) in try ledger.counterTotals(prefix: "agent:") { agents[String(key.dropFirst(6))] = a }
            return (total, agents)
        } catch {
            throw ServiceError.ledger("the ledger cannot be read: \(error)")
        }
    }

    /// A `tokens.updated` event after a settle (on the meter's queue).
    private func publishUpdate(request: InferenceRequest, charged: Amounts) {
        guard events.hasSubscribers else { return }
        let scopes = meter.status(model: request.model, agent: request.agent, workflow: request.workflow,
                                  shared: request.sharedBudgets)
        let fullest = scopes.compactMap { s in s.limit.map { Double(s.used + s.reserved) * 100 / Double(max($0, 1)) } }.max()
        let total = (try? meter.ledger?.windowTotal("total")) ?? nil
        let totalUsed = total?.tokens ?? meter.runTotals.tokens
        let limit = meter.policy.total[.tokens]
        let percent = limit.map { Double(totalUsed) * 100 / Double(max($0, 1)) } ?? fullest
        var data: [String: JSONValue] = [
            "model": .string(request.model),
            "prompt_tokens": .integer(Int(charged.inputTokens)), "completion_tokens": .integer(Int(charged.outputTokens)),
            "total_tokens": .integer(Int(charged.tokens)), "cost_usd": .string(BudgetService.dollars(charged.picodollars)),
            "total_used": .integer(Int(totalUsed)), "total_budget": limit.map { .integer(Int($0)) } ?? .null,
            "usage_percentage": percent.map { .number($0) } ?? .null,
            "timestamp": .integer(Int(Date().timeIntervalSince1970)),
        ]
        if let a = request.agent { data["agent_id"] = .string(a) }
        if let w = request.workflow { data["workflow"] = .string(w) }
        if !request.sharedBudgets.isEmpty { data["shared_budgets"] = .array(request.sharedBudgets.map { .string($0) }) }
        events.publish(ServiceEvent(name: "tokens.updated", data: .object(data)))
    }

    // MARK: Housekeeping

    /// Settles at their worst case the client reservations older than the
    /// timeout (on the meter's queue).
    func expireAbandoned(now: Date = Date()) {
        for (id, p) in pending where now.timeIntervalSince(p.created) > reservationTimeout {
            pending[id] = nil
            chargeWorstCase(id, p, why: "was not settled within \(Int(reservationTimeout)) s")
        }
        metrics.setInFlight(pending.count + inFlightChats)
    }

    /// Settles a reservation its client left open at its worst case, and says so.
    private func chargeWorstCase(_ id: String, _ p: Pending, why: String) {
        var e = BackendError(.cancelled, "reservation \(why): charged at its worst case")
        e.billed = TokenUsage(inputTokens: Int(p.worst.inputTokens), outputTokens: Int(p.worst.outputTokens))
        settle(p.request, p.reservation, .failure(e))
        log("reservation \(id) (\(p.caller.agent ?? p.caller.key)) \(why): charged at its worst case, \(p.worst.tokens) tokens")
    }

    /// Looks for abandoned reservations (the server calls it every few seconds).
    public func sweep() async {
        _ = try? await onMeter { [self] in expireAbandoned() }
    }

    /// Stops taking calls; settles the client reservations still open at
    /// their worst case (their clients may have made the calls), ends the
    /// run in the ledger and closes it. Chat completions in flight have
    /// been waited for by the server before this.
    public func shutDown() async {
        _ = try? await onMeter { [self] in
            stopped = true
            for (id, p) in pending.sorted(by: { $0.key < $1.key }) {
                chargeWorstCase(id, p, why: "was still open at shutdown")
            }
            pending = [:]
            metrics.setInFlight(inFlightChats)
            if let ledger = meter.ledger {
                do {
                    try ledger.endRun(id: meter.runID, outcome: "ok", totals: meter.runTotals, ended: Date())
                    try ledger.close()
                } catch {
                    log("the ledger could not record the service's end: \(error)")
                }
            }
            events.finish()
        }
    }

    // MARK: Formatting

    /// An amount in a unit as JSON: money as an exact decimal string of dollars, the rest as integers.
    static func amount(_ v: Int64?, _ unit: BudgetUnit) -> JSONValue {
        guard let v else { return .null }
        switch unit {
        case .usd: return .string(dollars(v))
        case .seconds: return .number(Double(v) / 1000)
        default: return .integer(Int(v))
        }
    }

    /// `0.0123` — exact dollars, without the sign `$`.
    static func dollars(_ picodollars: Int64) -> String {
        let s = Money(picodollars: picodollars).description
        return s.replacingOccurrences(of: "$", with: "")
    }
}

/// Carries a value that is not `Sendable` across the meter queue's hop; it
/// is only touched on one side at a time.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
