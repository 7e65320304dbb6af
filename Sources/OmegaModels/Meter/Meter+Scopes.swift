import Foundation
import OmegaCore

/// The meter's scopes: `with-budget` scopes that open and close with their
/// evaluation, the named limits (model, agent, workflow) since their reset
/// and per calendar window, the run, the total and the windows — and which
/// of them a call is charged against.
extension Meter {
    // MARK: Scopes

    /// Opens a `with-budget` scope; returns its id.
    public func openScope(limits: BudgetLimits, label: String = "", degrade: [DegradeRule] = []) -> Int {
        let s = BudgetScope(id: nextID, kind: .scope, name: label, limits: limits, opened: clock())
        s.degrade = degrade
        nextID += 1
        dynamic[s.id] = s
        return s.id
    }

    /// Forgets a `with-budget` scope (calls still in flight keep charging
    /// it); a continuation that re-enters its extent reopens it (`reopenScope`).
    public func closeScope(_ id: Int) {
        guard let s = dynamic.removeValue(forKey: id) else { return }
        closed[id] = s
        closedOrder.append(id)
        // Only the latest few can still be re-entered in practice; the rest go.
        if closedOrder.count > 64 { closed[closedOrder.removeFirst()] = nil }
    }

    /// Puts a closed `with-budget` scope back in force, with what it had
    /// spent (a continuation re-entered its extent).
    public func reopenScope(_ id: Int) {
        guard dynamic[id] == nil, let s = closed.removeValue(forKey: id) else { return }
        closedOrder.removeAll { $0 == id }
        dynamic[id] = s
    }

    /// Closes every `with-budget` scope still open. A host calls it when a
    /// top-level evaluation ends, however it ended (an error, a declined
    /// approval, an interrupt, a continuation that jumped out): no scope
    /// outlives the evaluation that opened it.
    public func closeAllScopes() {
        for id in dynamic.keys.sorted() { closeScope(id) }
    }

    /// The `with-budget` scopes open now, outermost first.
    public var openScopes: [BudgetScope] { dynamic.values.sorted { $0.id < $1.id } }

    /// Sets (or with an empty table, removes) the limits of a model, agent or
    /// workflow (`window`: within each day, week or month), the run, the
    /// total or a calendar window.
    public func setLimits(_ kind: BudgetScope.Kind, _ name: String, window: BudgetScope.Kind? = nil, _ limits: BudgetLimits) {
        switch kind {
        case .model, .agent, .workflow, .shared:
            policy.setLimits(kind, name, window: window, limits)
            if window == nil { scope(kind, name, limits: nil).limits = limits }
            else { periodicScopes["\(window?.rawValue ?? ""):\(kind.rawValue):\(name)"]?.limits = limits }
        case .run: runScope.limits = limits
        case .total:
            policy.total = limits
            if limits.isEmpty { totalScope = nil }
            else if let t = totalScope { t.limits = limits }
            else { totalScope = newScope(.total, "total", limits: limits) }
        case .day, .week, .month:
            policy.windows[kind] = limits
            windowScopes[kind]?.limits = limits
        case .scope: break
        }
    }

    /// Adds `amount` (internal scale) to a scope's limit in `unit`: an approved extension.
    public func extend(scopeID: Int, unit: BudgetUnit, by amount: Int64) {
        guard let s = allScopes.first(where: { $0.id == scopeID }) else { return }
        if let l = s.limits[unit] {
            s.limits[unit] = l.adding(saturating: amount)
        } else if unit == .tokens, let lv = s.levels {
            s.levels = EscalationLevels(moderate: lv.moderate, high: lv.high, critical: lv.critical.adding(saturating: amount))
        }
        if s.kind.isWindow { policy.windows[s.kind] = s.limits }
    }

    func scope(_ kind: BudgetScope.Kind, _ name: String, limits: BudgetLimits?) -> BudgetScope {
        if let s = named[kind]?[name] {
            if let l = limits { s.limits = l }
            return s
        }
        let s = newScope(kind, name, limits: limits ?? [:])
        named[kind, default: [:]][name] = s
        return s
    }

    /// A new scope whose spend so far is read from the ledger when it has a counter.
    func newScope(_ kind: BudgetScope.Kind, _ name: String, limits: BudgetLimits, now: Date? = nil,
                          window: (kind: BudgetScope.Kind, key: String)? = nil) -> BudgetScope {
        let s = BudgetScope(id: nextID, kind: kind, name: name, limits: limits, opened: now ?? clock(), window: window)
        nextID += 1
        if let ledger, let counter = s.counter {
            do {
                s.used = try ledger.windowTotal(counter)
            } catch {
                report("omega: budget: the spend of \(s.label) could not be read from the ledger (\(error)); each call under it is checked in the ledger when it is made")
            }
        }
        return s
    }

    /// The calendar windows at `now`: a new day, week or month starts empty
    /// (or with what other processes already spent in it).
    func windows(at now: Date) -> [BudgetScope] {
        let keys = windowKeys(at: now)
        var result: [BudgetScope] = []
        for kind in [BudgetScope.Kind.day, .week, .month] {
            let limits = policy.windows[kind] ?? [:]
            let levels = policy.levels[kind]
            guard !limits.isEmpty || levels != nil else { continue }
            let key = kind == .day ? keys.day : kind == .week ? keys.week : keys.month
            if windowScopes[kind]?.name != key {
                let s = newScope(kind, key, limits: limits, now: now)
                s.levels = levels
                windowScopes[kind] = s
            }
            if let s = windowScopes[kind] { result.append(s) }
        }
        return result
    }

    /// The limits of `kind` `name` within each calendar window at `now`.
    func periodic(_ kind: BudgetScope.Kind, _ name: String, at now: Date) -> [BudgetScope] {
        guard !policy.periodic.isEmpty else { return [] }
        let keys = windowKeys(at: now)
        var result: [BudgetScope] = []
        for window in [BudgetScope.Kind.day, .week, .month] {
            guard let limits = policy.periodic[window]?[kind]?[name], !limits.isEmpty else { continue }
            let key = window == .day ? keys.day : window == .week ? keys.week : keys.month
            let id = "\(window.rawValue):\(kind.rawValue):\(name)"
            if periodicScopes[id]?.window?.key != key {
                periodicScopes[id] = newScope(kind, name, limits: limits, now: now, window: (window, key))
            }
            if let s = periodicScopes[id] { result.append(s) }
        }
        return result
    }

    var allScopes: [BudgetScope] {
        [runScope] + Array(dynamic.values) + named.values.flatMap { $0.values } + Array(windowScopes.values)
            + Array(periodicScopes.values) + (totalScope.map { [$0] } ?? [])
    }

    /// Every scope a request with these scope ids, model, agent and workflow
    /// is charged against, innermost first.
    func scopes(for ids: [Int], model: String, agent: String?, workflow: String?, shared: [String] = [],
                now: Date) -> [BudgetScope] {
        var result = ids.compactMap { dynamic[$0] }
        let names = [(BudgetScope.Kind.agent, agent), (.workflow, workflow), (.model, model as String?)] + shared.map { (.shared, $0) }
        for (kind, name) in names {
            guard let name else { continue }
            if let s = named[kind]?[name] { result.append(s) }
            result.append(contentsOf: periodic(kind, name, at: now))
        }
        result.append(runScope)
        if let t = totalScope { result.append(t) }
        result.append(contentsOf: windows(at: now))
        return result
    }
}

extension Meter {
    /// Reads the settled spend of every scope a call for this model, agent
    /// and workflow falls under from the ledger's counters, so that the
    /// figures `status` gives include what other processes and hosts spent
    /// since this meter last reserved. Throws when the ledger cannot be
    /// read (never counted as nothing spent).
    public func refreshFromLedger(model: String? = nil, agent: String? = nil, workflow: String? = nil,
                                  shared: [String] = []) throws {
        guard let ledger else { return }
        for s in scopes(for: [], model: model ?? models.defaultModel, agent: agent, workflow: workflow, shared: shared, now: clock()) {
            guard let c = s.counter else { continue }
            s.used = try ledger.windowTotal(c)
        }
    }
}
