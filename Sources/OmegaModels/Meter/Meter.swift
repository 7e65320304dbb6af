import Foundation
import OmegaCore

/// Charges every model call against every budget in force.
///
/// **Reserve, then settle.** `admit` runs before a request leaves: it applies
/// degradation rules, serves the cache, then reserves the call's worst case
/// (exact prompt tokens + max output tokens, and their price) in every
/// scope that applies — `with-budget` scopes, the model's, agent's and
/// workflow's, the run, and the calendar windows (those through the ledger,
/// atomically across processes). If any scope cannot take it, nothing is
/// reserved and `BudgetExceeded` is thrown. `settle` replaces the
/// reservation with what the call really used and writes the ledger row.
///
/// Both run on the interpreter's thread, so in-process checks need no lock;
/// calls in flight are covered by their reservations, which is why no number
/// of concurrent calls can push a scope past its limit.
public final class Meter: EffectMeter {
    /// The budgets in force.
    public var policy: BudgetPolicy { didSet { keysCache = nil; percents = nil } }
    /// Where settled calls are written; nil: in memory only.
    public let ledger: (any LedgerStore)?
    /// The ledger as the reports, the dashboard and the budget tools read it
    /// (`:tokens` in the REPL): both stores offer it.
    public var reportingLedger: (any LedgerReporting)? { ledger as? any LedgerReporting }
    /// Models, prices and token counting.
    public var models: ModelSettings
    /// The current time (injectable, for calendar tests).
    public var clock: () -> Date
    /// Where warnings and alerts go (standard error by default).
    public var report: (String) -> Void
    /// This run's id (`run-…`), in the ledger and receipts.
    public let runID: String
    /// The script the run executes, for the ledger.
    public var script: String
    /// The whole run's scope.
    public let runScope: BudgetScope
    /// Set once a scope passed the emergency percentage: every later call is refused.
    public private(set) var emergency: BudgetEmergencyStop?
    /// Set when a settled call could not be recorded: every later call is
    /// refused (unless `policy.ledgerFailOpen`).
    public private(set) var ledgerFailure: String?
    /// Serve identical requests from earlier answers (the ledger's); also
    /// switched on by `(enable-caching!)`.
    public var cacheEnabled: Bool
    /// Rules every call follows whatever the budgets (the modes of
    /// `emergency-mode`: cheaper model, shorter outputs, cache only).
    public var modeRules: [DegradeRule] = []
    /// The mode's name, for messages (`standard`, `economy`…).
    public var mode = "standard"
    /// Extra percentages to report crossings of (from `on-budget-threshold`).
    public var watchedPercents: Set<Int> = [] { didSet { percents = nil } }
    /// The thresholds and watched percentages, sorted (computed once).
    private var percents: [Int]?
    /// Upper bounds on what each backend and model bills for a prompt.
    public let bounds: InputBounds

    /// The current day's, week's and month's scopes.
    var windowScopes: [BudgetScope.Kind: BudgetScope] = [:]
    /// Model, agent and workflow limits since their reset.
    /// Filled on first use: a dictionary literal here cost every start a
    /// scan of the executable's protocol conformances (for Kind: Hashable).
    var named: [BudgetScope.Kind: [String: BudgetScope]] = [:]
    /// Model, agent and workflow limits within a calendar window, by window kind, kind and name.
    var periodicScopes: [String: BudgetScope] = [:]
    /// The total since the last reset, when limited.
    var totalScope: BudgetScope?
    /// `with-budget` scopes in force, by id.
    var dynamic: [Int: BudgetScope] = [:]
    /// Closed `with-budget` scopes that a continuation may re-enter, oldest first in `closedOrder`.
    var closed: [Int: BudgetScope] = [:]
    var closedOrder: [Int] = []
    /// The next scope's id.
    var nextID = 1
    private var sequence = 0
    private var pendingEvents: [ThresholdEvent] = []
    private var resumeAnswers: [String: [Ledger.Call]] = [:]
    private var memoryCache: [String: InferenceResult] = [:]
    /// Keys of cacheable calls sent and not yet settled.
    private var pendingKeys: [String: Int] = [:]
    private var notes: Set<String> = []
    private var priceCache: [String: ModelPrice?] = [:]
    private var keysCache: (minute: Int64, keys: (day: String, week: String, month: String))?
    /// Charged amounts per dimension (`model`, `agent`, `workflow`, `operation`) and key.
    public private(set) var usageBy: [String: [String: Amounts]] = [:]
    /// Calls that settled.
    public private(set) var settledCalls = 0
    /// Cache hits served.
    public private(set) var cacheHits = 0

    /// A meter with `policy`, writing to `ledger` when given; `report` gets warnings and alerts (default: standard error).
    public init(policy: BudgetPolicy = BudgetPolicy(), ledger: (any LedgerStore)? = nil, models: ModelSettings = ModelSettings(),
                runID: String = Meter.newRunID(), script: String = "", clock: @escaping () -> Date = Date.init,
                report: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.policy = policy
        self.ledger = ledger
        self.models = models
        self.runID = runID
        self.script = script
        self.clock = clock
        self.report = report
        cacheEnabled = policy.cache
        bounds = InputBounds(ledger: ledger, report: report)
        bounds.priorRatio = policy.boundRatio
        bounds.priorOverhead = policy.boundOverhead
        runScope = BudgetScope(id: 0, kind: .run, name: runID, limits: policy.run, opened: clock())
        runScope.levels = policy.levels[.run]
        for (kind, limits) in policy.models { _ = scope(.model, kind, limits: limits) }
        for (name, limits) in policy.agents { _ = scope(.agent, name, limits: limits) }
        for (name, limits) in policy.workflows { _ = scope(.workflow, name, limits: limits) }
        for (name, limits) in policy.shared { _ = scope(.shared, name, limits: limits) }
        if !policy.total.isEmpty { totalScope = newScope(.total, "total", limits: policy.total) }
    }

    /// `run-20261123-142501-3f9a`: sortable, unique enough for one machine.
    public static func newRunID(now: Date = Date()) -> String {
        // By hand: a DateFormatter costs more than the rest of a run's set-up.
        var seconds = time_t(now.timeIntervalSince1970.rounded(.down))
        var t = tm()
        gmtime_r(&seconds, &t)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let stamp = "\(t.tm_year + 1900)\(two(t.tm_mon + 1))\(two(t.tm_mday))-\(two(t.tm_hour))\(two(t.tm_min))\(two(t.tm_sec))"
        return "run-\(stamp)-\(String(UInt32.random(in: 0...0xFFFF_FFFF), radix: 16))"
    }

    // MARK: Admitting a call

    /// What `admit` decided.
    final class Reservation {
        let scopes: [BudgetScope]
        let worst: Amounts
        let ledgerReservation: Int64?
        let requestKey: String
        let cacheHit: Bool
        /// The backend the call was admitted for.
        var backend = ""
        /// Identical requests may wait for this one (`pendingKeys`).
        var shared = false
        init(scopes: [BudgetScope], worst: Amounts, ledgerReservation: Int64?, requestKey: String, cacheHit: Bool) {
            self.scopes = scopes
            self.worst = worst
            self.ledgerReservation = ledgerReservation
            self.requestKey = requestKey
            self.cacheHit = cacheHit
        }
    }

    /// Checks a call against every scope in force and reserves its worst case; applies degradation rules to `request`. Throws `BudgetExceeded`, `BudgetDeferred` or a ledger error.
    public func admit(_ request: inout InferenceRequest, backend: String) throws -> Admission {
        if let e = emergency { throw e }
        if let f = ledgerFailure {
            throw LedgerError("the ledger cannot record spend (\(f)), so no call is sent: free disk space or fix the ledger's permissions, or set [ledger] on_failure = \"continue\" to go on unrecorded")
        }
        let now = clock()
        var scopes = self.scopes(for: request.budgetScopes, model: request.model, agent: request.agent,
                                 workflow: request.workflow, shared: request.sharedBudgets, now: now)
        let cacheOnlyReason = try degrade(&request, &scopes, now: now)
        let cacheOnly = cacheOnlyReason != nil

        // The key names the request in the ledger (for the cache and --resume).
        let needsKey = ledger != nil || cacheEnabled || cacheOnly || !resumeAnswers.isEmpty
        let key = needsKey ? Meter.requestKey(request, backend: backend) : ""
        if needsKey, let hit = try cachedAnswer(key, request: request, allowCache: cacheEnabled || cacheOnly) {
            return .answer(hit, Reservation(scopes: scopes, worst: Amounts(), ledgerReservation: nil, requestKey: key, cacheHit: true))
        }
        // The same request already in flight: wait for its answer (free).
        if cacheEnabled || cacheOnly, !key.isEmpty, pendingKeys[key, default: 0] > 0 {
            return .follow(key: key, Reservation(scopes: scopes, worst: Amounts(), ledgerReservation: nil, requestKey: key, cacheHit: true))
        }
        if let why = cacheOnlyReason {
            throw BudgetDeferred(label: why, percent: 0, reason: "only cached answers are served, and this call has none")
        }

        // The prompt as the provider will bill it: exact, or a calibrated upper bound.
        let inputBound = bounds.bound(request, backend: backend).tokens
        request.inputBound = inputBound
        var worst = Amounts(inputTokens: Int64(inputBound), outputTokens: Int64(request.maxTokens), calls: 1)
        if let price = price(request.model) {
            let usage = TokenUsage(inputTokens: inputBound, outputTokens: request.maxTokens)
            worst.picodollars = (try? price.cost(of: usage).picodollars) ?? Int64.max / 4
        } else if !policy.allowUnpriced, scopes.contains(where: { $0.limits[.usd] != nil }) {
            throw UnpricedModel(model: request.model, hint: models.prices.didYouMean(request.model))
        }

        // With a ledger, scopes with a counter are checked and reserved in
        // it, atomically with every other process; the rest here.
        let shared = ledger != nil
        if !request.budgetApproved {
            for s in scopes { try check(s, worst, now: now, request, onlySeconds: shared && s.counter != nil) }
        }
        var ledgerReservation: Int64?
        let counted = shared ? scopes.filter { $0.counter != nil && (!$0.limits.isEmpty || $0.levels != nil) } : []
        if let ledger, !counted.isEmpty {
            let keys = windowKeys(at: now)
            let limits = counted.map { (key: $0.counter ?? "", limits: effectiveLimits($0)) }
            let covering = BudgetCounter.keys(day: keys.day, week: keys.week, month: keys.month, model: request.model,
                                              agent: request.agent, workflow: request.workflow, shared: request.sharedBudgets)
            do {
                let (id, totals) = try ledger.reserve(worst, windows: limits, covering: covering, day: keys.day,
                                                      week: keys.week, month: keys.month, runID: runID,
                                                      check: !request.budgetApproved)
                ledgerReservation = id
                for s in counted {
                    guard let c = s.counter, let t = totals[c] else { continue }
                    s.used = t
                }
            } catch let r as Ledger.WindowRefusal {
                let s = counted.first { $0.counter == r.window } ?? counted[0]
                s.used = r.used
                throw refusal(s, r.unit, limit: r.limit, used: r.used[r.unit], reserved: r.reserved[r.unit],
                              requested: worst[r.unit], request)
            } catch {
                // The ledger cannot be read: never counted as zero spend.
                // Fail closed, unless the configuration chose to go on with
                // this process's own figures (said loudly, every time).
                guard policy.ledgerFailOpen else {
                    throw LedgerError("the ledger \(ledger.path) cannot reserve this call (\(error)), so it is not sent: calls are refused until the ledger is back (or set [ledger] on_failure = \"continue\" to go on with this process's own figures)")
                }
                report("omega: WARNING: the ledger \(ledger.path) cannot reserve this call (\(error)); it goes on against this process's own figures only, because [ledger] on_failure = \"continue\": other processes' spend is not counted")
                if !request.budgetApproved { for s in counted { try check(s, worst, now: now, request) } }
            }
        }
        for s in scopes {
            s.reserved += worst
            if let limit = s.limits[.seconds] {
                let left = Double(limit - s.committed(.seconds, now: now)) / 1000
                request.timeout = min(request.timeout, max(left, 0.001))
            }
        }
        let reservation = Reservation(scopes: scopes, worst: worst, ledgerReservation: ledgerReservation, requestKey: key, cacheHit: false)
        reservation.backend = backend
        if cacheEnabled, !key.isEmpty {
            pendingKeys[key, default: 0] += 1
            reservation.shared = true
            return .sendShared(reservation, key: key)
        }
        return .send(reservation)
    }

    /// What an admitted call holds reserved (its worst case: prompt bound,
    /// max tokens, their price, one call); nil for what `admit` did not return.
    public func reserved(by reservation: AnyObject?) -> Amounts? {
        (reservation as? Reservation)?.worst
    }

    /// Limits plus the critical escalation level as a token limit.
    private func effectiveLimits(_ s: BudgetScope) -> BudgetLimits {
        var l = s.limits
        if let c = s.levels?.critical { l[.tokens] = min(l[.tokens] ?? Int64.max, c) }
        return l
    }

    /// Refuses the call if `s` cannot take `worst` (`onlySeconds`: the ledger
    /// checks the rest).
    private func check(_ s: BudgetScope, _ worst: Amounts, now: Date, _ request: InferenceRequest,
                       onlySeconds: Bool = false) throws {
        for unit in onlySeconds ? [.seconds] : BudgetUnit.allCases {
            guard let limit = s.limits[unit] else { continue }
            if unit == .seconds {
                let elapsed = s.committed(.seconds, now: now)
                if elapsed >= limit { throw refusal(s, unit, limit: limit, used: elapsed, reserved: 0, requested: 0, request) }
                continue
            }
            if s.used[unit].adding(saturating: s.reserved[unit]).adding(saturating: worst[unit]) > limit {
                throw refusal(s, unit, limit: limit, used: s.used[unit], reserved: s.reserved[unit], requested: worst[unit], request)
            }
        }
        if !onlySeconds, let c = s.levels?.critical, s.used.tokens.adding(saturating: s.reserved.tokens).adding(saturating: worst.tokens) > c, (s.limits[.tokens] ?? .max) > c {
            var e = refusal(s, .tokens, limit: c, used: s.used.tokens, reserved: s.reserved.tokens, requested: worst.tokens, request)
            e.level = .critical
            throw e
        }
    }

    /// The refusal to throw; the first for each scope, unit and limit is an
    /// alert (seed 001's "100 % block"), delivered to every channel from 100 % down.
    private func refusal(_ s: BudgetScope, _ unit: BudgetUnit, limit: Int64, used: Int64, reserved: Int64, requested: Int64,
                         _ request: InferenceRequest) -> BudgetExceeded {
        let e = BudgetExceeded(scopeID: s.id, kind: s.kind, name: s.name, label: s.label, unit: unit, limit: limit, used: used,
                               reserved: reserved, requested: requested, model: request.model, agent: request.agent,
                               workflow: request.workflow)
        if s.refusalsReported.insert("\(unit.rawValue):\(limit)").inserted {
            let committed = used.adding(saturating: reserved)
            // A refusal is the 100 % block, whatever the scope holds now.
            let percent = max(100, Double(committed) * 100 / Double(max(limit, 1)))
            alert("refused", scope: s.label, "call refused: \(e.description)", unit: unit, used: committed, limit: limit,
                  percent: percent)
        }
        return e
    }

    /// Applies the rules in force — the modes (`modeRules`), and the
    /// degradation rules of each scope past their percentage; returns why
    /// only cached answers may be served, if they may.
    private func degrade(_ request: inout InferenceRequest, _ scopes: inout [BudgetScope], now: Date) throws -> String? {
        var active: [(rule: DegradeRule, why: String, percent: Double?)] = modeRules.map { ($0, "mode \(mode)", nil) }
        for s in scopes {
            let fullness = s.fullness(now: now) * 100
            let rules = s.degrade + (s.limits.isEmpty && s.levels == nil ? [] : policy.degrade)
            for rule in rules where fullness >= Double(rule.percent) {
                active.append((rule, "\(s.label) is past \(rule.percent)%", fullness))
            }
        }
        var cacheOnly: String?
        for (rule, why, percent) in active {
            switch rule.action {
            case .switchModel(let from, let to):
                guard from == nil || from == request.model, request.model != to else { continue }
                note("\(why): calls to \(request.model) now go to \(to)", percent: percent)
                request.model = to
                request.promptTokens = models.tokens.count(messages: request.messages, model: to)
                scopes = self.scopes(for: request.budgetScopes, model: to, agent: request.agent,
                                     workflow: request.workflow, shared: request.sharedBudgets, now: now)
            case .capMaxTokens(let n):
                if request.maxTokens > n {
                    note("\(why): max-tokens lowered to \(n)", percent: percent)
                    request.maxTokens = n
                }
            case .cacheOnly:
                cacheOnly = cacheOnly ?? why
            case .deferCall:
                throw BudgetDeferred(label: why, percent: rule.percent, reason: "calls are deferred")
            }
        }
        return cacheOnly
    }

    /// The day, week and month keys of `now`. Every zone's offset is a whole
    /// number of minutes, so keys cannot change within a minute: cached per minute.
    func windowKeys(at now: Date) -> (day: String, week: String, month: String) {
        let minute = Int64((now.timeIntervalSince1970 / 60).rounded(.down))
        if let c = keysCache, c.minute == minute { return c.keys }
        let keys = CalendarWindows(timeZone: policy.timeZone).keys(at: now)
        keysCache = (minute, keys)
        return keys
    }

    /// Reports a warning or alert through the alert channels (the console
    /// by default) and records it in the ledger's `alerts` table
    /// (`threshold`, `refused`, `moderate`, `review`, `critical`, `excess`,
    /// `emergency`, `degrade`). Threshold alerts carry unit, usage and limit;
    /// `percent` (how full the scope is) decides which channels get it.
    private func alert(_ kind: String, scope: String, _ message: String,
                       unit: BudgetUnit? = nil, used: Int64? = nil, limit: Int64? = nil, percent: Double? = nil) {
        let percent = percent ?? (used.flatMap { u in limit.map { Double(u) * 100 / Double(max($0, 1)) } }) ?? 100
        let a = BudgetAlert(kind: kind, scope: scope, message: message, unit: unit, used: used, limit: limit,
                            percent: percent, recommendation: BudgetAlert.recommendation(percent: percent),
                            time: clock(), runID: runID)
        policy.alerts.deliver(a, report: report)
        do {
            try ledger?.recordAlert(time: a.time, runID: runID, kind: kind, scope: scope, message: message)
        } catch {
            report("omega: budget: the ledger could not record an alert: \(error)")
        }
    }

    /// A model's price, looked up once per name.
    private func price(_ model: String) -> ModelPrice? {
        if let cached = priceCache[model] { return cached }
        let p = models.prices.price(for: model)
        priceCache[model] = p
        return p
    }

    /// A degradation, reported once: `percent` is how full the scope that
    /// caused it was (nil for a mode, which is not about fullness).
    private func note(_ message: String, percent: Double? = nil) {
        if notes.insert(message).inserted { alert("degrade", scope: "", message, percent: percent ?? 0) }
    }

    // MARK: Cache and resume

    /// Makes `--resume RUN` answer the calls that run completed, in order, at no cost.
    public func resume(from runID: String) throws -> Int {
        guard let ledger else { throw LedgerError("--resume needs the ledger") }
        let calls = try ledger.calls(ofRun: runID).filter { $0.outcome == "ok" && $0.answer != nil }
        for c in calls { resumeAnswers[c.requestKey, default: []].append(c) }
        return calls.count
    }

    private func cachedAnswer(_ key: String, request: InferenceRequest, allowCache: Bool) throws -> InferenceResult? {
        var call: Ledger.Call?
        if !resumeAnswers.isEmpty, var pending = resumeAnswers[key], !pending.isEmpty {
            call = pending.removeFirst()
            resumeAnswers[key] = pending
        } else if allowCache {
            if let r = memoryCache[key] { return cacheResult(r, request) }
            call = try ledger?.cachedCall(requestKey: key)
        }
        guard let c = call, let text = c.answer else { return nil }
        return InferenceResult(text: text, model: c.model, finishReason: c.finishReason ?? "stop", usage: c.usage,
                               usageSource: .reported, cost: .zero, latency: 0, backend: "cache", requestID: request.id)
    }

    private func cacheResult(_ r: InferenceResult, _ request: InferenceRequest) -> InferenceResult {
        var hit = r
        hit.backend = "cache"
        hit.cost = .zero
        hit.latency = 0
        hit.requestID = request.id
        return hit
    }

    /// The cache's key: a hash of backend, model, prompt and the options that change the answer.
    public static func requestKey(_ r: InferenceRequest, backend: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        func field(_ s: String, _ separator: UInt8 = 1) {
            bytes.append(contentsOf: s.utf8)
            bytes.append(separator)
        }
        field(backend); field(r.operation); field(r.model); field(String(r.maxTokens))
        field(r.temperature.map { String($0) } ?? "-"); field(String(r.sample))
        for stop in r.stop { field(stop, 2) }
        for m in r.messages { field(m.role); field(m.content, 3) }
        for (k, v) in r.extra.sorted(by: { $0.key < $1.key }) { field(k); field(v.description, 4) }
        for (k, v) in r.providerFields.sorted(by: { $0.key < $1.key }) { field(k); field(v.description, 5) }
        let sim = r.simulation
        if sim != SimulationOptions() { field("\(sim.latency ?? -1) \(sim.fault ?? "-") \(sim.overrun ?? 0)", 6) }
        return Digest.sha256Hex(bytes)
    }

    // MARK: Settling a call

    /// Replaces a call's reservation with what it used, prices it, records it, and returns the outcome (with `cost` set).
    @discardableResult
    public func settle(_ request: InferenceRequest, reservation: AnyObject?,
                       outcome: Result<InferenceResult, Error>) -> Result<InferenceResult, Error> {
        guard let r = reservation as? Reservation else { return outcome }
        let now = clock()
        if r.shared {
            pendingKeys[r.requestKey, default: 1] -= 1
            if pendingKeys[r.requestKey] == 0 { pendingKeys[r.requestKey] = nil }
        }
        var outcome = outcome
        // Usage no call can have (negative, or beyond any model's window) is
        // a broken or hostile server: charged at the reservation's worst case
        // (never at face value, never as zero), and the run stops below.
        var rejectedUsage: String?
        if case .success(let result) = outcome, !r.cacheHit, result.backend != "replay",
           let problem = Meter.implausible(result.usage) {
            rejectedUsage = "\(result.backend) reported impossible usage for request \(request.id) (\(problem))"
            outcome = .failure(BackendError(.badResponse, "\(rejectedUsage ?? ""); it was charged at the reservation's worst case, \(r.worst.tokens) tokens"))
        }
        var usage = TokenUsage(inputTokens: 0, outputTokens: 0)
        var cost: Money?
        var charged = Amounts()
        var outcomeName = "ok", source = "reported", answer: String?, finish: String?, latency = 0.0
        var backend = "", served: String?
        let model = request.model
        let price = price(request.model)
        func charge(_ u: TokenUsage) {
            let cached = (price?.inputIncludesCachedTokens ?? true) ? 0 : u.cacheReadTokens + u.cacheWriteTokens
            cost = price.flatMap { try? $0.cost(of: u) }
            charged = Amounts(inputTokens: Int64(u.inputTokens + cached), outputTokens: Int64(u.outputTokens),
                              picodollars: cost?.picodollars ?? 0, calls: 1)
        }
        switch outcome {
        case .success(var result):
            answer = result.text
            finish = result.finishReason
            latency = result.latency
            backend = result.backend
            if !result.model.isEmpty, result.model != request.model { served = result.model }
            if r.cacheHit {
                cost = .zero
                cacheHits += 1
            } else if result.backend != "replay" {
                if result.usageSource == .estimated && !bounds.countingBackends.contains(r.backend) {
                    // No usage from the provider and no exact count: charge
                    // bounds that are never too low, and say so.
                    result.usage = boundedUsage(request, result.usage, finishedByLength: result.finishReason == "length",
                                                backend: r.backend)
                    result.usageSource = .bounded
                }
                // Backends report usage; the money is priced here, once.
                charge(result.usage)
                result.cost = cost
                outcome = .success(result)
                if result.usageSource == .reported {
                    bounds.observe(request, backend: r.backend, billed: Int(charged.inputTokens))
                }
            }
            usage = result.usage
            source = r.cacheHit ? "cache" : result.backend == "replay" ? "replay" : result.usageSource.rawValue
        case .failure(let error):
            let e = error as? BackendError
            outcomeName = e?.kind.rawValue ?? "error"
            if rejectedUsage != nil {
                usage = TokenUsage(inputTokens: Int(r.worst.inputTokens), outputTokens: Int(r.worst.outputTokens))
                charged = r.worst
                source = "worst-case"
            } else if let billed = e?.billed, !r.cacheHit {
                // A cut stream: what the provider will bill, counted here;
                // bounded when Omega's count is not the model's.
                let exact = request.promptTokens.exact || bounds.countingBackends.contains(r.backend)
                usage = exact ? billed : boundedUsage(request, billed, finishedByLength: false, backend: r.backend)
                source = exact ? "counted" : "bounded"
                charge(usage)
            }
        }
        sequence += 1
        settledCalls += 1
        for s in r.scopes {
            s.reserved -= r.worst
            s.used += charged
        }
        if (charged.tokens > r.worst.tokens || charged.picodollars > r.worst.picodollars), !r.cacheHit {
            var causes: [String] = []
            if charged.inputTokens > r.worst.inputTokens {
                causes.append("its prompt was billed as \(charged.inputTokens) tokens, more than the \(r.worst.inputTokens) reserved for it (\(model)'s tokenizer or chat template adds more than Omega had calibrated; the bound is raised for later calls)")
            }
            if charged.outputTokens > r.worst.outputTokens {
                causes.append("it returned \(charged.outputTokens) output tokens though max-tokens was \(r.worst.outputTokens) (the server ignored max-tokens)")
            }
            let excess = charged.tokens - r.worst.tokens
            alert("excess", scope: r.scopes.first?.label ?? "run", "\(model) used more than was reserved for request \(request.id): \(causes.joined(separator: "; ")); the excess\(excess > 0 ? " of \(excess) tokens" : "") was charged")
        }
        for (dimension, key) in [("model", model), ("agent", request.agent), ("workflow", request.workflow),
                                 ("operation", request.operation)] {
            guard let key else { continue }
            usageBy[dimension, default: [:]][key, default: Amounts()] += charged
        }
        for name in request.sharedBudgets { usageBy["shared", default: [:]][name, default: Amounts()] += charged }
        if r.cacheHit == false, !r.requestKey.isEmpty, case .success(let result) = outcome, cacheEnabled {
            memoryCache[r.requestKey] = result
        }
        if let ledger {
            let keys = windowKeys(at: now)
            let call = Ledger.Call(
                time: now, runID: runID, sequence: sequence, script: script, model: model, backend: backend.isEmpty ? "-" : backend,
                agent: request.agent, workflow: request.workflow, operation: request.operation, usage: usage, cost: cost,
                latency: latency, cacheHit: r.cacheHit, outcome: outcomeName, usageSource: source, requestID: request.id,
                requestKey: r.requestKey, answer: answer, finishReason: finish, day: keys.day, week: keys.week,
                month: keys.month, charged: charged, servedModel: served, shared: request.sharedBudgets)
            do {
                try ledger.record(call, releasing: r.ledgerReservation, cacheable: cacheEnabled)
            } catch {
                // Spend that cannot be recorded cannot be counted against a
                // budget: fail closed, unless the configuration says otherwise.
                if policy.ledgerFailOpen {
                    note("the ledger could not record a call (\(error)); calls go on unrecorded because [ledger] on_failure = \"continue\"")
                } else if ledgerFailure == nil {
                    ledgerFailure = "\(error)"
                    report("omega: ledger: a call's spend could not be recorded (\(error)); no more calls are sent")
                }
            }
        }
        checkThresholds(r.scopes, now: now, overran: charged.tokens > r.worst.tokens || charged.picodollars > r.worst.picodollars)
        if let why = rejectedUsage, emergency == nil, r.scopes.contains(where: { !$0.limits.isEmpty || $0.levels != nil }) {
            emergency = BudgetEmergencyStop(message: "emergency stop: \(why): no reservation bounds what such a server bills, so the calls in flight are cancelled and no more are sent")
            alert("emergency", scope: r.scopes.first?.label ?? "run", emergency?.message ?? "")
        }
        // A server that ignores max-tokens breaks every reservation made for
        // it, the calls in flight included: under a budget, the first such
        // reply stops the run, so the budget ends at most this call over.
        if charged.outputTokens > r.worst.outputTokens, !r.cacheHit, emergency == nil,
           r.scopes.contains(where: { !$0.limits.isEmpty || $0.levels != nil }) {
            emergency = BudgetEmergencyStop(message: "emergency stop: \(model) returned \(charged.outputTokens) output tokens though max-tokens was \(r.worst.outputTokens) (request \(request.id)): the server ignores max-tokens, so no reservation bounds its calls; the reply was charged in full, the calls in flight are cancelled and no more are sent")
            alert("emergency", scope: r.scopes.first?.label ?? "run", emergency?.message ?? "")
        }
        return outcome
    }

    /// Why reported usage cannot be real (a count below zero or above
    /// 100 million tokens), or nil.
    static func implausible(_ u: TokenUsage) -> String? {
        let limit = 100_000_000
        for (name, n) in [("input tokens", u.inputTokens), ("output tokens", u.outputTokens),
                          ("cached tokens", u.cacheReadTokens), ("cache-write tokens", u.cacheWriteTokens),
                          ("reasoning tokens", u.reasoningTokens)] where n < 0 || n > limit {
            return "\(name): \(n)"
        }
        return nil
    }

    /// Usage that was not reported, as bounds: the prompt as reserved, the
    /// answer's local count scaled as the prompt's bound is.
    private func boundedUsage(_ request: InferenceRequest, _ counted: TokenUsage, finishedByLength: Bool,
                              backend: String) -> TokenUsage {
        let input = max(request.inputBound ?? request.promptTokens.tokens, counted.inputTokens)
        let output = bounds.outputBound(counted: counted.outputTokens, request: request, backend: backend,
                                        finishedByLength: finishedByLength)
        return TokenUsage(inputTokens: input, outputTokens: output)
    }

    /// Reports each newly crossed threshold once per scope and unit, moves
    /// escalation levels, and stops the run past the emergency percentage.
    /// `overran`: the call used more than it reserved (only then can a scope
    /// pass its hard limit without an approval, and trip the emergency stop).
    private func checkThresholds(_ scopes: [BudgetScope], now: Date, overran: Bool) {
        let percents = self.percents ?? Set(policy.thresholds).union(watchedPercents).sorted()
        self.percents = percents
        for s in scopes {
            for unit in BudgetUnit.allCases where unit != .seconds {
                guard let limit = s.limits[unit], limit > 0 else { continue }
                let used = s.used[unit]
                // In Double: a limit near Int64.max times 100 must not overflow.
                let percentUsed = Double(used) * 100 / Double(limit)
                let crossed = percents.filter { Double($0) <= percentUsed && !(s.reported[unit]?.contains($0) ?? false) }
                guard !crossed.isEmpty else { continue }
                s.reported[unit, default: []].formUnion(crossed)
                let status = self.status(s, unit, now: now)
                if policy.thresholds.contains(where: { crossed.contains($0) }) {
                    let pct = Int(percentUsed)
                    alert("threshold", scope: s.label, "\(s.label) has used \(pct)% of its \(unit.format(limit)) (\(BudgetExceeded.plain(unit, used)) used, \(BudgetExceeded.plain(unit, max(0, limit.adding(saturating: -used)))) left)",
                          unit: unit, used: used, limit: limit)
                }
                for p in crossed { pendingEvents.append(ThresholdEvent(percent: p, status: status)) }
                if overran, percentUsed > Double(policy.emergencyPercent), emergency == nil {
                    emergency = BudgetEmergencyStop(message: "emergency stop: \(s.label) reached \(Int(percentUsed))% of its limit of \(unit.format(limit)) (over \(policy.emergencyPercent)%: a reply was larger than its reservation)")
                    alert("emergency", scope: s.label, emergency?.message ?? "", unit: unit, used: used, limit: limit)
                }
            }
            let level = s.level
            if level > s.reportedLevel, let critical = s.levels?.critical {
                s.reportedLevel = level
                let tokens = s.used.tokens
                func levelAlert(_ kind: String, _ message: String) {
                    alert(kind, scope: s.label, message, unit: .tokens, used: tokens, limit: critical)
                }
                switch level {
                case .moderate: levelAlert("moderate", "warning: \(s.label) is at the moderate level (\(tokens) tokens)")
                case .high: levelAlert("review", "alert: \(s.label) is at the high level (\(tokens) tokens): flagged for review")
                case .critical: levelAlert("critical", "alert: \(s.label) is at the critical level (\(tokens) tokens): further calls need approval")
                case .normal: break
                }
            }
        }
    }

    /// Threshold crossings not yet handed to Scheme's `on-budget-threshold` callbacks.
    public func takeEvents() -> [ThresholdEvent] {
        defer { pendingEvents.removeAll() }
        return pendingEvents
    }

    /// Clears the emergency stop (a host that approved going on).
    public func clearEmergency() { emergency = nil }
    /// True after an emergency stop, until a host clears it.
    public var isStopped: Bool { emergency != nil }

    // MARK: Queries

    func status(_ s: BudgetScope, _ unit: BudgetUnit, now: Date) -> ScopeStatus {
        ScopeStatus(scopeID: s.id, kind: s.kind, name: s.name, label: s.label, unit: unit, limit: s.limits[unit],
                    used: s.committed(unit, now: now) - (unit == .seconds ? 0 : s.reserved[unit]),
                    reserved: unit == .seconds ? 0 : s.reserved[unit], level: s.level)
    }

    /// The state of every scope a call made now would be charged against
    /// (one entry per limited unit; the run's tokens always), innermost first.
    public func status(scopeIDs: [Int] = [], model: String? = nil, agent: String? = nil, workflow: String? = nil,
                       shared: [String] = []) -> [ScopeStatus] {
        let now = clock()
        var result: [ScopeStatus] = []
        for s in scopes(for: scopeIDs, model: model ?? models.defaultModel, agent: agent, workflow: workflow, shared: shared, now: now) {
            let units = BudgetUnit.allCases.filter { s.limits[$0] != nil }
            for u in units.isEmpty ? [.tokens] : units { result.append(status(s, u, now: now)) }
        }
        return result
    }

    /// How much more can be spent in `unit` right now: the least any scope
    /// in force has left; nil when nothing limits the unit.
    public func remaining(_ unit: BudgetUnit, scopeIDs: [Int], model: String?, agent: String?, workflow: String?,
                          shared: [String] = []) -> Int64? {
        status(scopeIDs: scopeIDs, model: model, agent: agent, workflow: workflow, shared: shared)
            .filter { $0.unit == unit }.compactMap(\.remaining).min()
    }

    /// What the innermost `with-budget` scope (else the run) has spent in `unit`.
    public func spent(_ unit: BudgetUnit, scopeIDs: [Int]) -> Int64 {
        let s = scopeIDs.lazy.compactMap { self.dynamic[$0] }.first ?? runScope
        return unit == .seconds ? s.committed(.seconds, now: clock()) : s.used[unit]
    }

    /// Totals of the run so far.
    public var runTotals: Amounts { runScope.used }

    // MARK: Tasks

    /// Tasks completed in this process when there is no ledger.
    private var taskHistory: [Ledger.TaskRecord] = []

    /// Records a completed task (in the ledger, else in memory).
    public func recordTask(_ t: Ledger.TaskRecord) throws {
        if let ledger { try ledger.recordTask(t) } else { taskHistory.append(t) }
    }

    /// Completed tasks of a kind.
    public func tasks(kind: String) throws -> [Ledger.TaskRecord] {
        if let ledger { return try ledger.tasks(kind: kind) }
        return taskHistory.filter { $0.kind == kind }
    }

    // MARK: Checkpoints

    /// What a checkpoint keeps: the run's and each named scope's spend.
    public struct State: Codable, Equatable {
        /// The run.
        public var runID: String
        /// Its spend.
        public var run: Amounts
        /// Each named scope's spend.
        public var scopes: [String: Amounts]
        /// Spend by model, agent, workflow and operation.
        public var usageBy: [String: [String: Amounts]]
    }

    /// The run's budget state as JSON (the seeds' checkpoint).
    public func stateJSON() throws -> String {
        var scopes: [String: Amounts] = [:]
        for (kind, table) in named { for (name, s) in table { scopes["\(kind.rawValue):\(name)"] = s.used } }
        let state = State(runID: runID, run: runScope.used, scopes: scopes, usageBy: usageBy)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(state), as: UTF8.self)
    }

    /// Adds a checkpoint's spend back (resuming after a crash or a pause).
    public func restore(stateJSON json: String) throws {
        let state = try JSONDecoder().decode(State.self, from: Data(json.utf8))
        runScope.used += state.run
        for (key, amounts) in state.scopes {
            let parts = key.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let kind = BudgetScope.Kind(rawValue: parts[0]) else { continue }
            scope(kind, parts[1], limits: nil).used += amounts
        }
        for (dimension, table) in state.usageBy {
            for (key, amounts) in table { usageBy[dimension, default: [:]][key, default: Amounts()] += amounts }
        }
    }
}
