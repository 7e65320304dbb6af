import Foundation
import OmegaCore

/// The native half of the budget procedures (the Scheme half — `with-budget`,
/// `budget`, the condition accessors, `with-tracking`, `on-budget-threshold`
/// — is stdlib/50-budget.scm):
///
///     (%budget-open SPEC LABEL SITE) → id  open a with-budget scope (named by SITE without a label)
///     (%budget-close ID), (%budget-reopen ID)
///     (%budget-extend! COND N)            approve N more of the refused unit
///     (%host-approver?), (%host-approve COND)  ask the host (Interpreter.budgetApprover)
///     (%budget-condition-kind X)  → exceeded | deferred | emergency | #f
///     (%budget-events)            → ((percent . status) …) crossings not yet handled
///     (%budget-query WHAT UNIT SCOPES MODEL AGENT WORKFLOW [SHARED])
///     (budget-status), (budget-usage-by DIM), (set-budget! KIND NAME LIMIT),
///     (budget-state), (budget-restore! JSON), (enable-caching!), (disable-caching!)
enum BudgetLibrary: NativeLibrary {
    static func register(in interp: Interpreter) {
        interp.define("%budget-reopen") { interp, id in
            interp.meter.reopenScope(try Check.int(id))
            return .unspecified
        }
        interp.define("%budget-open") { interp, spec, label, site in
            do {
                return try openScope(interp, spec: spec, label: label, site: site)
            } catch var e as SchemeError {
                // A bad limit is the user's with-budget call's error, at that call.
                e.procedure = "with-budget"
                if let loc = EffectLibrary.location(site) { e.location = loc }
                throw e
            }
        }
        interp.define("budget-degrade!") { interp, rules in
            interp.meter.policy.degrade = try degradeRules(rules, interp)
            return .unspecified
        }
        interp.define("%budget-close") { interp, id in
            interp.meter.closeScope(try Check.int(id))
            return .unspecified
        }
        interp.define("%budget-extend!") { interp, condition, amount in
            guard let fields = condition.as(ErrorObject.self)?.payload, let id = field(fields, "scope-id", interp),
                  id.isFixnum, let unitName = field(fields, "unit", interp)?.as(Symbol.self)?.name,
                  let unit = BudgetUnit.named(unitName) else {
                throw SchemeError(.type, "budget extension: not a budget-exceeded condition: ", irritants: [condition])
            }
            let n = try internalAmount(amount, unit, interp, argument: 2)
            guard n > 0 else { throw SchemeError(.range, "budget extension: the amount must be positive, got ", irritants: [amount]) }
            interp.meter.extend(scopeID: id.fixnum, unit: unit, by: n)
            return .unspecified
        }
        interp.define("%host-approver?") { interp in Value(interp.budgetApprover != nil) }
        interp.define("%host-approve") { interp, condition in
            guard let approver = interp.budgetApprover,
                  let refusal = condition.as(ErrorObject.self)?.hostError as? BudgetExceeded else { return .false }
            switch approver(refusal) {
            case .decline: return .false
            case .once: return .true
            case .extend(let n):
                guard n > 0 else { return .false }
                interp.meter.extend(scopeID: refusal.scopeID, unit: refusal.unit, by: n)
                return interp.symbol("retry")
            }
        }
        interp.define("%budget-stop") { interp, condition in
            let message = condition.as(ErrorObject.self)?.message ?? interp.displayString(condition)
            // The user's message, not this primitive's name in front of it.
            var e = SchemeError(.budget, message)
            e.procedure = ""
            throw e
        }
        interp.define("%budget-condition-kind") { interp, x in
            guard let e = x.as(ErrorObject.self), e.errorKind == .budget,
                  let k = field(e.payload, "condition", interp) else { return .false }
            return k
        }
        interp.define("%budget-events") { interp in
            interp.list(interp.meter.takeEvents().map { ev in
                interp.cons(.init(fixnum: ev.percent), statusValue(ev.status, interp))
            })
        }
        interp.define("%budget-watch!") { interp, p in
            let n = try Check.int(p)
            guard n > 0 && n <= 1000 else { throw SchemeError(.range, "on-budget-threshold: the percentage must be 1–1000, got ", irritants: [p]) }
            interp.meter.watchedPercents.insert(n)
            return .unspecified
        }
        interp.define("%budget-query", min: 6, max: 7) { interp, args in
            let what = try Check.symbol(args[0], 1).name
            let unit = try unitArgument(args[1], interp)
            let ids = try Check.list(args[2], 3).map { try Check.int($0) }
            let model = name(args[3], interp), agent = name(args[4], interp), workflow = name(args[5], interp)
            let shared = args.count > 6 ? try Check.list(args[6], 7).compactMap { interp.string($0) } : []
            switch what {
            case "remaining":
                guard let n = interp.meter.remaining(unit, scopeIDs: ids, model: model, agent: agent, workflow: workflow,
                                                     shared: shared) else {
                    return interp.heap.flonum(.infinity)
                }
                return schemeAmount(n, unit, interp)
            case "spent":
                return schemeAmount(interp.meter.spent(unit, scopeIDs: ids), unit, interp)
            default:
                return interp.list(interp.meter.status(scopeIDs: ids, model: model, agent: agent, workflow: workflow, shared: shared)
                    .map { statusValue($0, interp) })
            }
        }
        interp.define("budget-usage-by") { interp, dim in
            let name = try Check.symbol(dim, 1).name
            guard ["model", "agent", "workflow", "shared", "operation"].contains(name) else {
                throw SchemeError(.range, "budget-usage-by: expected model, agent, workflow, shared or operation, got ", irritants: [dim])
            }
            let table = interp.meter.usageBy[name] ?? [:]
            return interp.list(table.keys.sorted().map { key in
                let a = table[key] ?? Amounts()
                return interp.cons(interp.makeString(key), interp.list([
                    interp.cons(interp.symbol("calls"), .init(fixnum: Int(a.calls))),
                    interp.cons(interp.symbol("input-tokens"), .init(fixnum: Int(a.inputTokens))),
                    interp.cons(interp.symbol("output-tokens"), .init(fixnum: Int(a.outputTokens))),
                    interp.cons(interp.symbol("tokens"), .init(fixnum: Int(a.tokens))),
                    interp.cons(interp.symbol("usd"), TokenLibrary.dollars(Money(picodollars: a.picodollars), interp)),
                ]))
            })
        }
        interp.define("set-budget!") { interp, kind, name, limit in
            let k = try Check.symbol(kind, 1).name
            guard let scopeKind = BudgetScope.Kind(rawValue: k == "daily" ? "day" : k == "weekly" ? "week" : k == "monthly" ? "month" : k),
                  scopeKind != .scope else {
                throw SchemeError(.range, "set-budget!: expected model, agent, workflow, shared, run, total, day, week or month, got ", irritants: [kind])
            }
            let limits: BudgetLimits = limit == .false ? [:] : try limitsArgument(limit, interp, "set-budget!")
            if scopeKind.isWindow, limits[.seconds] != nil {
                throw SchemeError(.range, "set-budget!: a calendar window cannot have a time limit")
            }
            interp.meter.setLimits(scopeKind, interp.string(name) ?? interp.displayString(name), limits)
            return .unspecified
        }
        interp.define("budget-state") { interp in
            do { return interp.makeString(try interp.meter.stateJSON()) } catch {
                throw SchemeError(.error, "budget-state: \(error)")
            }
        }
        interp.define("budget-restore!") { interp, json in
            guard let text = interp.string(json) else { throw SchemeError.wrongType(json, expected: "a string", argument: 1) }
            do { try interp.meter.restore(stateJSON: text) } catch {
                throw SchemeError(.error, "budget-restore!: not a budget state: \(error)")
            }
            return .unspecified
        }
        interp.define("enable-caching!") { interp in
            interp.meter.cacheEnabled = true
            return .unspecified
        }
        interp.define("disable-caching!") { interp in
            interp.meter.cacheEnabled = false
            return .unspecified
        }
        interp.define("caching-enabled?") { interp in Value(interp.meter.cacheEnabled) }
        // (%set-mode! NAME RULES): rules every later call follows (emergency-mode's switches).
        interp.define("%set-mode!") { interp, name, rules in
            interp.meter.modeRules = try degradeRules(rules, interp)
            interp.meter.mode = BudgetLibrary.name(name, interp) ?? "standard"
            return .unspecified
        }
        interp.define("current-mode") { interp in interp.symbol(interp.meter.mode) }
        interp.define("%cheaper-model-pairs") { interp in
            interp.list(CheaperModels.pairs.map { interp.cons(interp.makeString($0.expensive), interp.makeString($0.cheaper)) })
        }
        // Whether PROC can be called with N arguments (with-tracking offers a second one).
        interp.define("%accepts?") { _, proc, n in
            let count = try Check.int(n, 2)
            if let c = proc.as(Closure.self) { return Value(count >= c.requiredCount && (c.hasRest || count == c.requiredCount)) }
            if let p = proc.as(Primitive.self) { return Value(count >= p.minArgs && (p.maxArgs < 0 || count <= p.maxArgs)) }
            return Value(count == 1)
        }
        // Tasks for forecasts: (%record-task! TEXT KIND SIZE TOKENS USD SECONDS), (%similar-tasks KIND).
        interp.define("%record-task!", min: 6, max: 6) { interp, args in
            let size = Num(args[2]).map(\.doubleValue)
            let record = Ledger.TaskRecord(
                time: Date(), runID: interp.meter.runID, kind: name(args[1], interp) ?? "task",
                task: name(args[0], interp) ?? interp.displayString(args[0]), size: size,
                tokens: try internalAmount(args[3], .tokens, interp, argument: 4),
                cost: Money(picodollars: try internalAmount(args[4], .usd, interp, argument: 5)),
                seconds: Num(args[5])?.doubleValue ?? 0)
            do { try interp.meter.recordTask(record) } catch {
                throw SchemeError(.error, "with-task: the ledger could not record the task: \(error)")
            }
            return .unspecified
        }
        interp.define("%similar-tasks") { interp, kind in
            let records: [Ledger.TaskRecord]
            do { records = try interp.meter.tasks(kind: name(kind, interp) ?? "") } catch {
                throw SchemeError(.error, "find-similar-historical-tasks: \(error)")
            }
            func pair(_ k: String, _ v: Value) -> Value { interp.cons(interp.symbol(k), v) }
            return interp.list(records.map { r in
                interp.list([pair("task", interp.makeString(r.task)), pair("kind", interp.makeString(r.kind)),
                              pair("size", r.size.map { interp.heap.flonum($0) } ?? .false),
                              pair("tokens", schemeAmount(r.tokens, .tokens, interp)),
                              pair("usd", schemeAmount(r.cost.picodollars, .usd, interp)),
                              pair("seconds", interp.heap.flonum(r.seconds)), pair("run", interp.makeString(r.runID))])
            })
        }
        // A dry run: calls go to the simulator and a meter of their own
        // (nothing charged, nothing recorded) until %dry-run-end, which
        // returns the tokens they used.
        interp.define("%dry-run-begin") { interp in
            interp.modelRuntime.dryRunSaved.append((interp.meter, interp.effects.backend))
            let dry = Meter(models: interp.models, report: { _ in })
            interp.modelRuntime.replaceMeter(dry)
            interp.effects.backend = SimulatorBackend(tokens: interp.models.tokens)
            return .unspecified
        }
        interp.define("%dry-run-end") { interp in
            guard let saved = interp.modelRuntime.dryRunSaved.popLast() else { return .false }
            let spent = interp.meter.runTotals.tokens
            interp.modelRuntime.replaceMeter(saved.meter)
            interp.effects.backend = saved.backend
            return schemeAmount(spent, .tokens, interp)
        }
        interp.define("%run-id") { interp in interp.makeString(interp.meter.runID) }
        // The procedure a global symbol names, or #f (a task datum such as
        // (summarize 100 documents) is run by the procedure it names).
        interp.define("%global-procedure") { interp, name in
            guard let sym = name.as(Symbol.self), let v = interp.global(sym.name), v.isProcedure else { return .false }
            return v
        }
    }

    /// Opens a with-budget scope from its spec, label and call site.
    static func openScope(_ interp: Interpreter, spec: Value, label: Value, site: Value) throws -> Value {
        var rules: [DegradeRule] = []
        var limitsSpec = spec
        if !spec.isFixnum && Num(spec) == nil {
            // (degrade . RULES) sits among the (unit . amount) pairs.
            var rest: [Value] = []
            for entry in try Check.list(spec, 1) {
                if entry.isPair, entry.pair.car.as(Symbol.self)?.name == "degrade" {
                    rules += try degradeRules(entry.pair.cdr, interp)
                } else {
                    rest.append(entry)
                }
            }
            limitsSpec = interp.list(rest)
        }
        let limits = try limitsArgument(limitsSpec, interp, "with-budget")
        // A scope without a label is named by where it was opened (`summarise.scm:12`).
        var name = interp.string(label) ?? ""
        if name.isEmpty, let loc = EffectLibrary.location(site) { name = interp.sourceFiles.shortDescription(loc) }
        return .init(fixnum: interp.meter.openScope(limits: limits, label: name, degrade: rules))
    }

    // MARK: Conversions

    /// A string or symbol as a name; nil for #f.
    static func name(_ v: Value, _ interp: Interpreter) -> String? {
        if let s = interp.string(v) { return s }
        return v.as(Symbol.self)?.name
    }

    static func field(_ alist: Value, _ key: String, _ interp: Interpreter) -> Value? {
        var walk = ListWalk(alist)
        while let p = walk.next() {
            let entry = p.pair.car
            if entry.isPair, entry.pair.car.as(Symbol.self)?.name == key { return entry.pair.cdr }
        }
        return nil
    }

    static func unitArgument(_ v: Value, _ interp: Interpreter) throws -> BudgetUnit {
        guard let name = v.as(Symbol.self)?.name, let unit = BudgetUnit.named(name) else {
            throw SchemeError(.range, "unknown budget unit (known: tokens, input-tokens, output-tokens, usd, calls, seconds): ", irritants: [v])
        }
        return unit
    }

    /// A Scheme amount in `unit` (tokens, dollars, calls, seconds) in the internal scale.
    static func internalAmount(_ v: Value, _ unit: BudgetUnit, _ interp: Interpreter, argument: Int) throws -> Int64 {
        switch unit {
        case .usd:
            return try TokenLibrary.moneyArgument(v, interp, argument: argument).picodollars
        case .seconds:
            guard let ms = CheckedNumber.milliseconds(try Check.number(v, argument).doubleValue) else {
                throw SchemeError(.range, "seconds must be a number from 0 to 3200000000 (a hundred years), got ", irritants: [v])
            }
            return ms
        default:
            guard v.isFixnum, v.fixnum >= 0 else {
                throw SchemeError(.range, "a \(unit.shortName) budget must be a non-negative exact integer, got ", irritants: [v])
            }
            return Int64(v.fixnum)
        }
    }

    /// `((80 model "cheap-model" ["from-model"]) (90 max-tokens 256) (95 cache-only) (98 defer))`.
    static func degradeRules(_ v: Value, _ interp: Interpreter) throws -> [DegradeRule] {
        try Check.list(v, 1).map { rule in
            let parts = try Check.list(rule, 1)
            let usage = "a degradation rule is (PERCENT model TO [FROM]), (PERCENT max-tokens N), (PERCENT cache-only) or (PERCENT defer), got "
            guard parts.count >= 2, parts[0].isFixnum, parts[0].fixnum >= 0, let action = parts[1].as(Symbol.self)?.name else {
                throw SchemeError(.type, usage, irritants: [rule])
            }
            let percent = parts[0].fixnum
            switch (action, parts.count) {
            case ("model", 3), ("model", 4):
                guard let to = name(parts[2], interp) else { throw SchemeError(.type, usage, irritants: [rule]) }
                return DegradeRule(percent: percent, action: .switchModel(from: parts.count == 4 ? name(parts[3], interp) : nil, to: to))
            case ("max-tokens", 3):
                guard parts[2].isFixnum, parts[2].fixnum > 0 else { throw SchemeError(.type, usage, irritants: [rule]) }
                return DegradeRule(percent: percent, action: .capMaxTokens(parts[2].fixnum))
            case ("cache-only", 2): return DegradeRule(percent: percent, action: .cacheOnly)
            case ("defer", 2): return DegradeRule(percent: percent, action: .deferCall)
            default: throw SchemeError(.type, usage, irritants: [rule])
            }
        }
    }

    /// A token count, or an association list of (unit . amount).
    static func limitsArgument(_ v: Value, _ interp: Interpreter, _ who: String) throws -> BudgetLimits {
        if v.isFixnum || Num(v) != nil { return [.tokens: try internalAmount(v, .tokens, interp, argument: 1)] }
        var limits: BudgetLimits = [:]
        for entry in try Check.list(v, 1) {
            guard entry.isPair else { throw SchemeError(.type, "\(who): expected (unit . amount) pairs, got ", irritants: [entry]) }
            let unit = try unitArgument(entry.pair.car, interp)
            limits[unit] = try internalAmount(entry.pair.cdr, unit, interp, argument: 1)
        }
        return limits
    }

    /// An internal amount as Scheme shows it: dollars exactly, seconds as a real.
    static func schemeAmount(_ n: Int64, _ unit: BudgetUnit, _ interp: Interpreter) -> Value {
        switch unit {
        case .usd: return TokenLibrary.dollars(Money(picodollars: n), interp)
        case .seconds: return interp.heap.flonum(Double(n) / 1000)
        default: return interp.heap.integer(Int(n))
        }
    }

    static func statusValue(_ s: ScopeStatus, _ interp: Interpreter) -> Value {
        func pair(_ k: String, _ v: Value) -> Value { interp.cons(interp.symbol(k), v) }
        return interp.list([
            pair("scope", interp.makeString(s.label)),
            pair("kind", interp.symbol(s.kind.rawValue)),
            pair("name", interp.makeString(s.name)),
            pair("unit", interp.symbol(s.unit.rawValue)),
            pair("limit", s.limit.map { schemeAmount($0, s.unit, interp) } ?? .false),
            pair("used", schemeAmount(s.used, s.unit, interp)),
            pair("reserved", schemeAmount(s.reserved, s.unit, interp)),
            pair("remaining", s.remaining.map { schemeAmount($0, s.unit, interp) } ?? .false),
            pair("percent", s.percent.map { interp.heap.flonum(($0 * 10).rounded() / 10) } ?? .false),
            pair("level", interp.symbol(s.level.name)),
        ])
    }

    /// The Scheme condition for a refused or stopped call.
    static func condition(_ error: Error, _ interp: Interpreter) -> Value? {
        func pair(_ k: String, _ v: Value) -> Value { interp.cons(interp.symbol(k), v) }
        let message: String
        var fields: [Value]
        switch error {
        case let e as BudgetExceeded:
            message = e.description
            fields = [
                pair("condition", interp.symbol("exceeded")),
                pair("scope", interp.makeString(e.label)), pair("kind", interp.symbol(e.kind.rawValue)),
                pair("name", interp.makeString(e.name)), pair("unit", interp.symbol(e.unit.rawValue)),
                pair("limit", schemeAmount(e.limit, e.unit, interp)), pair("used", schemeAmount(e.used, e.unit, interp)),
                pair("reserved", schemeAmount(e.reserved, e.unit, interp)),
                pair("requested", schemeAmount(e.requested, e.unit, interp)),
                pair("model", interp.makeString(e.model)),
                pair("agent", e.agent.map { interp.makeString($0) } ?? .false),
                pair("workflow", e.workflow.map { interp.makeString($0) } ?? .false),
                pair("level", e.level.map { interp.symbol($0.name) } ?? .false),
                pair("scope-id", .init(fixnum: e.scopeID)),
            ]
        case let e as BudgetDeferred:
            message = e.description
            fields = [pair("condition", interp.symbol("deferred")), pair("scope", interp.makeString(e.label)),
                      pair("percent", .init(fixnum: e.percent))]
        case let e as BudgetEmergencyStop:
            message = e.message
            fields = [pair("condition", interp.symbol("emergency"))]
        default:
            return nil
        }
        let obj = interp.errorObject(for: SchemeError(.budget, message), vm: interp.vm)
        obj.as(ErrorObject.self)?.payload = interp.list(fields)
        obj.as(ErrorObject.self)?.hostError = error
        return obj
    }
}
