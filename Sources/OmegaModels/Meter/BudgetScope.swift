import Foundation
import OmegaCore

/// One budget in force: a `with-budget` scope, a model's, an agent's or a
/// workflow's limit (since its reset, or within a calendar window), the run,
/// the total, or a calendar window. Every call charges every scope that
/// applies to it. Scopes with a `counter` add up across runs and processes
/// through the ledger.
public final class BudgetScope {
    /// What a scope limits.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// `(with-budget …)`.
        case scope
        case model, agent, workflow
        /// A named budget any call can be charged to (`with-shared-budget`),
        /// across agents, workflows, processes and hosts.
        case shared
        case run, day, week, month
        /// Everything recorded since the last reset (seed 002's `total_budget`).
        case total

        /// Calendar windows, shared with other processes through the ledger.
        public var isWindow: Bool { self == .day || self == .week || self == .month }
        /// A model, an agent, a workflow or a shared budget: named limits
        /// since their reset (or within a calendar window).
        public var isNamed: Bool { self == .model || self == .agent || self == .workflow || self == .shared }
        /// `daily`, `weekly`, `monthly` for windows.
        public var adjective: String {
            switch self {
            case .day: return "daily"
            case .week: return "weekly"
            case .month: return "monthly"
            default: return rawValue
            }
        }
    }

    /// The scope's id, unique in its meter.
    public let id: Int
    /// What it limits.
    public let kind: Kind
    /// What the scope is called in messages: a model, agent or workflow name,
    /// a window's key (`2026-11-23`, `2026-W48`, `2026-11`), or a label.
    public let name: String
    /// Its limits, by unit.
    public var limits: BudgetLimits
    /// For a model's, agent's or workflow's limit within a calendar window:
    /// the window's kind and key (`.day`, `2026-11-23`).
    public let window: (kind: Kind, key: String)?
    /// The ledger counter the scope is kept in (nil: this process only —
    /// `with-budget` scopes and the run).
    public let counter: String?
    /// Settled usage (for calendar windows: this process's and others', as
    /// last read from the ledger).
    public var used = Amounts()
    /// Worst cases of calls in flight.
    public var reserved = Amounts()
    /// Token thresholds of the four escalation levels, when configured.
    public var levels: EscalationLevels?
    /// What to do as the scope fills up.
    public var degrade: [DegradeRule] = []
    /// When the scope opened (its `seconds` limit counts from here).
    public let opened: Date
    /// Warning percentages already reported, per unit.
    var reported: [BudgetUnit: Set<Int>] = [:]
    /// Refusals already alerted, as `unit:limit` (a raised limit alerts again).
    var refusalsReported: Set<String> = []
    /// Escalation level already reported.
    var reportedLevel: EscalationLevel = .normal

    init(id: Int, kind: Kind, name: String, limits: BudgetLimits, opened: Date,
         window: (kind: Kind, key: String)? = nil) {
        self.id = id
        self.kind = kind
        self.name = name
        self.limits = limits
        self.opened = opened
        self.window = window
        switch kind {
        case .scope, .run: counter = nil
        case .total: counter = "total"
        case .day, .week, .month: counter = "\(kind.rawValue):\(name)"
        case .model, .agent, .workflow, .shared:
            counter = BudgetCounter.key(kind: kind, name: name, window: window.map { "\($0.kind.rawValue):\($0.key)" })
        }
    }

    /// `agent code-reviewer`, `agent code-reviewer's daily budget 2026-11-23`,
    /// `budget summarise.scm:12`, `daily budget 2026-11-23`, `run`, `total budget`.
    public var label: String {
        switch kind {
        case .scope: return name.isEmpty ? "budget scope #\(id)" : "budget \(name)"
        case .model, .agent, .workflow:
            guard let w = window else { return "\(kind.rawValue) \(name)" }
            return "\(kind.rawValue) \(name)'s \(w.kind.adjective) budget \(w.key)"
        case .shared:
            guard let w = window else { return "shared budget \(name)" }
            return "shared budget \(name)'s \(w.kind.adjective) budget \(w.key)"
        case .run: return "run"
        case .total: return "total budget"
        case .day, .week, .month: return "\(kind.adjective) budget \(name)"
        }
    }

    /// Used plus reserved in `unit`; for `seconds`, the time since the scope opened.
    func committed(_ unit: BudgetUnit, now: Date) -> Int64 {
        unit == .seconds ? Int64(now.timeIntervalSince(opened) * 1000) : used[unit].adding(saturating: reserved[unit])
    }

    /// The highest fraction of any limit that used plus reserved has reached.
    func fullness(now: Date) -> Double {
        var f = 0.0
        for (unit, limit) in limits where limit > 0 {
            f = max(f, Double(committed(unit, now: now)) / Double(limit))
        }
        if let l = levels, l.critical > 0 { f = max(f, Double(used.tokens.adding(saturating: reserved.tokens)) / Double(l.critical)) }
        return f
    }

    /// The escalation level of the tokens used so far.
    var level: EscalationLevel { levels?.level(of: used.tokens) ?? .normal }
}

/// The four levels of the budget policy (seeds/000): normal → continue;
/// moderate → log a warning; high → alert and flag for review; critical →
/// stop and require approval.
public enum EscalationLevel: Int, Sendable, Comparable, Codable {
    case normal = 1, moderate, high, critical
    public static func < (a: EscalationLevel, b: EscalationLevel) -> Bool { a.rawValue < b.rawValue }
    /// The level as seeds/001 names it.
    public var name: String {
        switch self {
        case .normal: return "normal"
        case .moderate: return "moderate"
        case .high: return "high"
        case .critical: return "critical"
        }
    }
}

/// Token counts at which a window enters each level (the seeds' per-run
/// policy is 10,000 / 50,000 / 100,000).
public struct EscalationLevels: Sendable, Equatable {
    /// Tokens from which the level is moderate.
    public var moderate: Int64
    /// Tokens from which it is high.
    public var high: Int64
    /// Tokens from which it is critical (calls need approval).
    public var critical: Int64

    /// Levels at these token counts.
    public init(moderate: Int64, high: Int64, critical: Int64) {
        self.moderate = moderate
        self.high = high
        self.critical = critical
    }

    func level(of tokens: Int64) -> EscalationLevel {
        if tokens >= critical { return .critical }
        if tokens >= high { return .high }
        if tokens >= moderate { return .moderate }
        return .normal
    }
}

/// What to do to a call once a scope is filled past a percentage, before the
/// call is refused outright (seeds/001: graceful degradation).
public struct DegradeRule: Sendable, Equatable {
    /// What a rule does to a call.
    public enum Action: Sendable, Equatable {
        /// Use a cheaper model (only for calls to `from`, when given).
        case switchModel(from: String?, to: String)
        /// Ask for at most this many output tokens.
        case capMaxTokens(Int)
        /// Answer from the cache only; a miss is refused.
        case cacheOnly
        /// Do not send: raise a `budget-deferred` condition the script can catch.
        case deferCall
    }
    /// Percentage of the scope's fullest limit at which the rule starts.
    public var percent: Int
    /// What it does.
    public var action: Action

    /// A rule from `percent` on.
    public init(percent: Int, action: Action) {
        self.percent = percent
        self.action = action
    }
}
