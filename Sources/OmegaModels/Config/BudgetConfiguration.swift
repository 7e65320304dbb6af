import Foundation
import OmegaCore

/// The `[budget]` part of the configuration:
///
///     [budget]
///     time_zone = "Europe/Berlin"       # calendar windows follow this zone (default: the system's)
///     thresholds = [70, 80, 90]         # percentages reported once per scope
///     emergency_percent = 110
///     cache = false
///     [budget.run]      tokens = 100000, usd = 2.50, calls = 200, seconds = 600
///     [budget.total]    tokens = 1000000       (everything since the last reset)
///     [budget.daily]    tokens = 500000        (also weekly, monthly)
///     [budget.levels.run] moderate = 10000, high = 50000, critical = 100000
///     [budget.models."gpt-4o"] tokens = 50000, daily = 100000, monthly = 2000000
///     [budget.agents] code-reviewer = 50000   (a number means tokens)
///     [budget.workflows.nightly] usd = 1.00, daily = { usd = 0.25 }
///
/// Model, agent and workflow limits count everything the ledger recorded
/// since their last reset; `daily`, `weekly`, `monthly` inside one limit it
/// within each calendar window (a number means tokens).
///     [budget.degrade]
///     cheaper_model = { at = 80, from = "claude-sonnet-4-5", to = "claude-haiku-4-5" }
///     max_tokens = { at = 90, limit = 256 }
///     cache_only = 95
///     defer = 98
extension Configuration {
    /// The budgets and rules configured; errors name the file, line and key.
    public func budgetPolicy(base: BudgetPolicy = BudgetPolicy()) throws -> BudgetPolicy {
        var policy = base
        if let zone = try string("budget.time_zone") {
            guard let tz = TimeZone(identifier: zone) else {
                throw ConfigError(place: lookup("budget.time_zone")?.place ?? "config", key: "budget.time_zone",
                                  message: "unknown time zone '\(zone)' (use an IANA name such as Europe/Berlin)")
            }
            policy.timeZone = tz
        }
        if let (v, place) = lookup("budget.thresholds") {
            guard case .array(let items) = v else {
                throw ConfigError(place: place, key: "budget.thresholds", message: "expected an array of percentages")
            }
            policy.thresholds = try items.map {
                guard case .integer(let n) = $0, n > 0, n <= 100 else {
                    throw ConfigError(place: place, key: "budget.thresholds", message: "each threshold must be a whole percentage 1–100")
                }
                return n
            }.sorted()
        }
        if let n = try positiveInteger("budget.emergency_percent") {
            guard n >= 100 else {
                throw ConfigError(place: lookup("budget.emergency_percent")?.place ?? "config", key: "budget.emergency_percent",
                                  message: "must be at least 100")
            }
            policy.emergencyPercent = n
        }
        if let b = try bool("budget.cache") { policy.cache = b }
        if let r = try number("budget.bound_ratio") {
            guard r >= 1, r <= 100 else {
                throw ConfigError(place: lookup("budget.bound_ratio")?.place ?? "config", key: "budget.bound_ratio",
                                  message: "must be between 1 and 100, got \(r)")
            }
            policy.boundRatio = r
        }
        if let (v, place) = lookup("budget.bound_overhead") {
            guard case .integer(let n) = v, n >= 0, n <= 1_000_000 else {
                throw ConfigError(place: place, key: "budget.bound_overhead", message: "expected a whole number of tokens 0–1000000, got \(v.kind)")
            }
            policy.boundOverhead = n
        }
        if let b = try bool("budget.allow_unpriced") { policy.allowUnpriced = b }
        if let f = try string("ledger.on_failure") {
            guard f == "refuse" || f == "continue" else {
                throw ConfigError(place: lookup("ledger.on_failure")?.place ?? "config", key: "ledger.on_failure",
                                  message: "expected \"refuse\" (the default: no call is sent once spend cannot be recorded) or \"continue\"")
            }
            policy.ledgerFailOpen = f == "continue"
        }
        // Seconds a shared ledger's reservation outlives a host that stopped renewing it.
        if let seconds = try number("ledger.lease", in: 1...86_400) { policy.ledgerLease = seconds }
        if let limits = try budgetLimits("budget.run") { policy.run = limits }
        if let limits = try budgetLimits("budget.total") {
            guard limits[.seconds] == nil else {
                throw ConfigError(place: lookup("budget.total.seconds")?.place ?? "config", key: "budget.total.seconds",
                                  message: "the total cannot have a time limit (use budget.run.seconds)")
            }
            policy.total = limits
        }
        for (key, kind) in [("daily", BudgetScope.Kind.day), ("weekly", .week), ("monthly", .month)] {
            if let limits = try budgetLimits("budget.\(key)") {
                guard limits[.seconds] == nil else {
                    throw ConfigError(place: lookup("budget.\(key).seconds")?.place ?? "config", key: "budget.\(key).seconds",
                                      message: "a calendar window cannot have a time limit")
                }
                policy.windows[kind] = limits
            }
        }
        if let levels = try table("budget.levels") {
            for key in levels.keys {
                let kinds: [String: BudgetScope.Kind] = ["run": .run, "daily": .day, "weekly": .week, "monthly": .month]
                guard let kind = kinds[key] else {
                    throw ConfigError(place: place(levels, key), key: "budget.levels.\(key)",
                                      message: "expected run, daily, weekly or monthly")
                }
                policy.levels[kind] = try escalationLevels("budget.levels.\(key)")
            }
        }
        try namedLimits("budget.models", .model, into: &policy)
        try namedLimits("budget.agents", .agent, into: &policy)
        try namedLimits("budget.workflows", .workflow, into: &policy)
        try namedLimits("budget.shared", .shared, into: &policy)
        try readTrackerLayout(into: &policy)
        if let channels = try alertChannels() { policy.alerts = channels }
        policy.degrade = try degradeRules()
        return policy
    }

    /// The token-budget tracker's layout (seeds/002), read as well:
    ///
    ///     [token_budget]
    ///     total_budget = 1000000        # tokens since the last reset; 0 = unlimited
    ///     warning_threshold = 80        # one more warning percentage
    ///     [token_budget.per_agent_limits]
    ///     code-reviewer = 100000
    func readTrackerLayout(into policy: inout BudgetPolicy) throws {
        guard try table("token_budget") != nil else { return }
        if let (v, place) = lookup("token_budget.total_budget") {
            guard case .integer(let n) = v, n >= 0 else {
                throw ConfigError(place: place, key: "token_budget.total_budget", message: "expected a number of tokens (0 = unlimited)")
            }
            if n > 0 { policy.total[.tokens] = Int64(n) } else { policy.total[.tokens] = nil }
        }
        if let (v, place) = lookup("token_budget.warning_threshold") {
            guard let text = v.numberText, let d = Double(text), d > 0, d <= 100 else {
                throw ConfigError(place: place, key: "token_budget.warning_threshold", message: "expected a percentage 1–100")
            }
            policy.thresholds = [Int(d.rounded(.down))]
        }
        try namedLimits("token_budget.per_agent_limits", .agent, into: &policy)
    }

    /// A table of unit = amount (`tokens = 1000`, `usd = 0.50`), or nil.
    func budgetLimits(_ path: String) throws -> BudgetLimits? {
        guard let t = try table(path) else { return nil }
        var limits: BudgetLimits = [:]
        for key in t.keys {
            guard let unit = BudgetUnit.named(key) else {
                throw ConfigError(place: place(t, key), key: "\(path).\(key)",
                                  message: "unknown budget unit (known: tokens, input_tokens, output_tokens, usd, calls, seconds)")
            }
            guard let text = t[key]?.numberText, let amount = BudgetLimits.internalAmount(unit, text), amount >= 0 else {
                throw ConfigError(place: place(t, key), key: "\(path).\(key)", message: "expected a non-negative amount")
            }
            limits[unit] = amount
        }
        return limits
    }

    /// `[budget.agents]`: each name maps to a token count or a table of
    /// limits, which may hold `daily`, `weekly`, `monthly` (a token count or
    /// a table of limits within each window).
    private func namedLimits(_ path: String, _ kind: BudgetScope.Kind, into policy: inout BudgetPolicy) throws {
        guard let t = try table(path) else { return }
        for name in t.keys {
            switch t[name] {
            case .integer(let n)? where n >= 0:
                policy.setLimits(kind, name, [.tokens: Int64(n)])
            case .table(let inner)?:
                var since: BudgetLimits = [:]
                for key in inner.keys {
                    let keyPath = "\(path).\(name).\(key)"
                    if let window = ["daily": BudgetScope.Kind.day, "weekly": .week, "monthly": .month][key] {
                        let limits: BudgetLimits
                        switch inner[key] {
                        case .integer(let n)? where n >= 0: limits = [.tokens: Int64(n)]
                        case .table?: limits = try budgetLimits(keyPath) ?? [:]
                        default:
                            throw ConfigError(place: place(inner, key), key: keyPath, message: "expected a token count or a table of limits")
                        }
                        guard limits[.seconds] == nil else {
                            throw ConfigError(place: place(inner, key), key: keyPath, message: "a calendar window cannot have a time limit")
                        }
                        policy.setLimits(kind, name, window: window, limits)
                        continue
                    }
                    guard let unit = BudgetUnit.named(key) else {
                        throw ConfigError(place: place(inner, key), key: keyPath,
                                          message: "unknown budget unit or window (known: tokens, input_tokens, output_tokens, usd, calls, seconds; daily, weekly, monthly)")
                    }
                    guard let text = inner[key]?.numberText, let amount = BudgetLimits.internalAmount(unit, text), amount >= 0 else {
                        throw ConfigError(place: place(inner, key), key: keyPath, message: "expected a non-negative amount")
                    }
                    since[unit] = amount
                }
                if !since.isEmpty { policy.setLimits(kind, name, since) }
            default:
                throw ConfigError(place: place(t, name), key: "\(path).\(name)",
                                  message: "expected a token count or a table of limits")
            }
        }
    }

    private func escalationLevels(_ path: String) throws -> EscalationLevels {
        guard let t = try table(path) else {
            throw ConfigError(place: lookup(path)?.place ?? "config", key: path, message: "expected a table")
        }
        func value(_ key: String) throws -> Int64 {
            guard case .integer(let n)? = t[key], n > 0 else {
                throw ConfigError(place: t[key] == nil ? (lookup(path)?.place ?? "config") : place(t, key), key: "\(path).\(key)",
                                  message: "expected a positive token count (moderate, high and critical are all needed)")
            }
            return Int64(n)
        }
        let levels = EscalationLevels(moderate: try value("moderate"), high: try value("high"), critical: try value("critical"))
        guard levels.moderate <= levels.high, levels.high <= levels.critical else {
            throw ConfigError(place: lookup(path)?.place ?? "config", key: path, message: "levels must rise: moderate ≤ high ≤ critical")
        }
        return levels
    }

    private func degradeRules() throws -> [DegradeRule] {
        guard let t = try table("budget.degrade") else { return [] }
        var rules: [DegradeRule] = []
        for key in t.keys {
            let path = "budget.degrade.\(key)"
            let where_ = place(t, key)
            func percent(_ v: TOMLValue?) throws -> Int {
                guard case .integer(let n)? = v, n > 0, n <= 100 else {
                    throw ConfigError(place: where_, key: path, message: "expected a percentage 1–100 (at = N)")
                }
                return n
            }
            func sub(_ name: String) -> TOMLValue? {
                if case .table(let s)? = t[key] { return s[name] }
                return nil
            }
            switch key {
            case "cheaper_model":
                guard case .string(let to)? = sub("to") else {
                    throw ConfigError(place: where_, key: path, message: "expected { at = N, to = \"MODEL\" [, from = \"MODEL\"] }")
                }
                var from: String?
                if case .string(let f)? = sub("from") { from = f }
                rules.append(DegradeRule(percent: try percent(sub("at")), action: .switchModel(from: from, to: to)))
            case "max_tokens":
                guard case .integer(let n)? = sub("limit"), n > 0 else {
                    throw ConfigError(place: where_, key: path, message: "expected { at = N, limit = TOKENS }")
                }
                rules.append(DegradeRule(percent: try percent(sub("at")), action: .capMaxTokens(n)))
            case "cache_only":
                rules.append(DegradeRule(percent: try percent(t[key]), action: .cacheOnly))
            case "defer":
                rules.append(DegradeRule(percent: try percent(t[key]), action: .deferCall))
            default:
                throw ConfigError(place: where_, key: path, message: "unknown rule (known: cheaper_model, max_tokens, cache_only, defer)")
            }
        }
        return rules
    }

    /// `[alerts.console|file|webhook|command]`, each with `threshold` (a
    /// percentage, `80` or `"80%"`); nil when there is no `[alerts]` table.
    func alertChannels() throws -> AlertChannels? {
        guard let t = try table("alerts") else { return nil }
        var result = AlertChannels()
        result.channels = []
        for key in t.keys {
            let path = "alerts.\(key)"
            var threshold = 0.0
            if let (v, where_) = lookup("\(path).threshold") {
                var text = v.numberText
                if case .string(let s) = v { text = s.hasSuffix("%") ? String(s.dropLast()) : s }
                guard let n = text.flatMap(Double.init), n >= 0, n <= 1000 else {
                    throw ConfigError(place: where_, key: "\(path).threshold", message: "expected a percentage such as 80 or \"80%\"")
                }
                threshold = n
            }
            func required(_ field: String) throws -> String {
                guard let s = try string("\(path).\(field)"), !s.isEmpty else {
                    throw ConfigError(place: place(t, key), key: "\(path).\(field)", message: "missing (the \(key) channel needs it)")
                }
                return s
            }
            switch key {
            case "console":
                result.channels.append((.console, threshold))
            case "file":
                _ = try required("path")
                let file = try self.path("\(path).path")?.path ?? ""
                let dir = URL(fileURLWithPath: file).deletingLastPathComponent().path
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                    throw ConfigError(place: place(t, key), key: "\(path).path", message: "the directory \(dir) does not exist (alerts could not be written)")
                }
                result.channels.append((.file(file), threshold))
            case "webhook":
                let url = try required("url")
                let expanded = url.hasPrefix("$") ? (ProcessInfo.processInfo.environment[String(url.dropFirst())] ?? "") : url
                if url.hasPrefix("$"), expanded.isEmpty {
                    throw ConfigError(place: place(t, key), key: "\(path).url", message: "\(url) is not set (it should hold the webhook's URL)")
                }
                guard expanded.hasPrefix("http://") || expanded.hasPrefix("https://") else {
                    throw ConfigError(place: place(t, key), key: "\(path).url", message: "expected an http(s) URL (or $VARIABLE holding one)")
                }
                result.channels.append((.webhook(expanded), threshold))
            case "command":
                result.channels.append((.command(try required("run")), threshold))
            case "email":
                let to = try required("to")
                guard to.contains("@"), !to.contains(where: { $0 == "\n" || $0 == "\r" || $0 == " " }) else {
                    throw ConfigError(place: place(t, key), key: "\(path).to", message: "expected an email address, got '\(to)'")
                }
                result.channels.append((.email(to: to, sendmail: try string("\(path).sendmail") ?? "sendmail -t"), threshold))
            default:
                throw ConfigError(place: place(t, key), key: path, message: "unknown alert channel (known: console, file, webhook, command, email)")
            }
        }
        return result
    }

    /// `[limits] memory` (`"512M"`, `"2G"`, or a number of bytes), when set.
    public func memoryLimit() throws -> Int? {
        guard let (v, place) = lookup("limits.memory") else { return nil }
        var text = v.numberText
        if case .string(let s) = v { text = s }
        guard let t = text, let bytes = MemorySize.parse(t) else {
            throw ConfigError(place: place, key: "limits.memory", message: "expected a size such as \"512M\" or \"2G\" (16M to 1T)")
        }
        return bytes
    }

    /// `[limits] time`: seconds an evaluation may run, when set.
    public func timeLimit() throws -> Double? {
        try number("limits.time", in: 0.001...31_536_000)
    }

    /// `[limits] sandbox = true` (model calls and the clock only) and
    /// `allow = ["file-read", …]` (added to it, or to nothing): the
    /// capabilities scripts get, when set.
    public func capabilities() throws -> Capabilities? {
        let sandbox = try bool("limits.sandbox")
        var allowed: Capabilities?
        if let (v, place) = lookup("limits.allow") {
            guard case .array(let items) = v else {
                throw ConfigError(place: place, key: "limits.allow", message: "expected a list such as [\"file-read\", \"effects\"]")
            }
            let names = items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
            guard names.count == items.count, let c = Capabilities.parse(names) else {
                throw ConfigError(place: place, key: "limits.allow",
                                  message: "unknown capability (known: \(Capabilities.names.map(\.0).joined(separator: ", ")), all)")
            }
            allowed = c
        }
        guard sandbox != nil || allowed != nil else { return nil }
        if sandbox == false && allowed == nil { return .all }
        return (sandbox == true ? Capabilities.sandbox : []).union(allowed ?? [])
    }

    /// The ledger from `[ledger] url` (a PostgreSQL server,
    /// `postgres://USER@HOST/DB`) or `[ledger] path` (an SQLite file), when
    /// set; both at once is an error.
    public func ledgerPath() throws -> String? {
        if let url = try string("ledger.url") {
            if lookup("ledger.path") != nil {
                throw ConfigError(place: lookup("ledger.url")?.place ?? "config", key: "ledger.url",
                                  message: "set either [ledger] url (a PostgreSQL server) or [ledger] path (an SQLite file), not both")
            }
            guard Session.isServerURL(url) else {
                throw ConfigError(place: lookup("ledger.url")?.place ?? "config", key: "ledger.url",
                                  message: "expected a PostgreSQL URL such as \"postgres://omega@db.internal/omega\" (an SQLite file is [ledger] path)")
            }
            return url
        }
        return try path("ledger.path")?.path
    }

    /// The key that set the ledger (`ledger.url` or `ledger.path`), for `omega config show`.
    public var ledgerKey: String { lookup("ledger.url") != nil ? "ledger.url" : "ledger.path" }
}
