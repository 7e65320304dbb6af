import Foundation
import Yams
import OmegaCore

/// Reads the seeds' enterprise layout (`token_budgets.yaml`) into the same
/// table the TOML configuration makes, so one set of typed accessors serves
/// both:
///
///     budgets:
///       global: { daily_limit, weekly_limit, monthly_limit, run_limit, alert_threshold: 80% }
///       per_workflow: { NAME: TOKENS }        → [budget.workflows.NAME] tokens
///       per_model:    { NAME: TOKENS }        → [budget.models.NAME] tokens
///       per_agent:    { NAME: TOKENS }        → [budget.agents.NAME] tokens
///     alerts:
///       channels: [ { type: console|file|webhook|slack|command, threshold, … } ]
///     optimizations:
///       model_downgrade: { enabled, trigger: usage > 80%, from, to }  → [budget.degrade.cheaper_model]
///       caching: { enabled }                                          → budget.cache
///
/// Any other key is taken as it stands (a YAML mapping is a TOML table), so
/// a YAML file can also hold `backend`, `model`, `[budget.levels]` and so on.
enum BudgetYAML {
    struct Converted {
        var table: TOMLTable
        var notes: [String]
    }

    static func convert(_ text: String, source: String) throws -> Converted {
        let node: Yams.Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw ConfigError(place: "\(source):\(line(of: e))", message: "not valid YAML: \(problem(of: e))")
        } catch {
            throw ConfigError(place: source, message: "not valid YAML: \(error)")
        }
        guard let node else { return Converted(table: TOMLTable(), notes: []) }
        guard let top = node.mapping else {
            throw ConfigError(place: "\(source):\(node.mark?.line ?? 1)", message: "expected a mapping of settings at the top")
        }
        var c = Converter(source: source)
        for (k, v) in top {
            let key = k.string ?? ""
            switch key {
            case "budgets": try c.budgets(v)
            case "alerts": try c.alerts(v)
            case "optimizations": try c.optimizations(v)
            case "degradation_strategy":
                c.notes.append("\(c.at(v)): degradation_strategy is a description; Omega's rules are [budget.degrade] (cheaper_model, max_tokens, cache_only, defer)")
            default:
                c.put([key], try c.value(v, key), v)
            }
        }
        return Converted(table: c.root, notes: c.notes)
    }

    private static func line(of e: YamlError) -> Int {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _): return mark.line
        default: return 1
        }
    }

    private static func problem(of e: YamlError) -> String {
        switch e {
        case .scanner(_, let p, _, _), .parser(_, let p, _, _): return p
        default: return "\(e)"
        }
    }

    /// Builds the table, remembering each key's line.
    private struct Converter {
        let source: String
        var root = TOMLTable()
        var notes: [String] = []
        /// Values converted so far (a reference: `value` runs inside closures).
        final class Count { var n = 0 }
        let read = Count()

        init(source: String) { self.source = source }

        func at(_ n: Yams.Node) -> String { "\(source):\(n.mark?.line ?? 0)" }

        /// Sets `path` (creating tables on the way) to `value`.
        mutating func put(_ path: [String], _ value: TOMLValue, _ n: Yams.Node) {
            func set(_ t: inout TOMLTable, _ path: ArraySlice<String>) {
                let k = path.first ?? ""
                if path.count == 1 {
                    if case .table(let existing)? = t[k], case .table(let new) = value {
                        t.set(k, .table(existing.merging(new)), line: n.mark?.line ?? 0, source: source)
                    } else {
                        t.set(k, value, line: n.mark?.line ?? 0, source: source)
                    }
                    return
                }
                var sub = TOMLTable()
                if case .table(let existing)? = t[k] { sub = existing }
                set(&sub, path.dropFirst())
                t.set(k, .table(sub), line: t.lines[k] ?? n.mark?.line ?? 0, source: source)
            }
            set(&root, path[...])
        }

        /// A YAML node as a TOML value (mappings as tables).
        func value(_ n: Yams.Node, _ key: String) throws -> TOMLValue {
            // Aliases expand as they are read ("billion laughs"): a configuration
            // is small, so past 100,000 values it is refused.
            read.n += 1
            guard read.n <= 100_000 else {
                throw ConfigError(place: at(n), key: key, message: "more than 100000 values (YAML aliases expand to too much)")
            }
            switch n {
            case .scalar(let s):
                if s.style == .plain {
                    if let i = n.int { return .integer(i) }
                    if n.float != nil, Double(s.string) != nil { return .decimal(s.string) }
                    if let b = n.bool { return .bool(b) }
                }
                return .string(s.string)
            case .mapping(let m):
                var t = TOMLTable()
                for (k, v) in m {
                    let name = k.string ?? ""
                    t.set(name, try value(v, "\(key).\(name)"), line: v.mark?.line ?? 0, source: source)
                }
                return .table(t)
            case .sequence(let seq):
                return .array(try seq.map { try value($0, key) })
            case .alias:
                throw ConfigError(place: at(n), key: key, message: "YAML aliases are not supported here")
            }
        }

        func tokens(_ n: Yams.Node, _ key: String) throws -> Int {
            if let i = n.int, i >= 0 { return i }
            throw ConfigError(place: at(n), key: key, message: "expected a number of tokens, got \(n.string.map { "'\($0)'" } ?? "a \(kind(n))")")
        }

        func kind(_ n: Yams.Node) -> String {
            switch n {
            case .scalar: return "value"
            case .mapping: return "mapping"
            case .sequence: return "list"
            case .alias: return "alias"
            }
        }

        func percent(_ n: Yams.Node, _ key: String) throws -> Int {
            var text = n.string ?? ""
            if text.hasSuffix("%") { text.removeLast() }
            guard let d = Double(text.trimmingCharacters(in: .whitespaces)), d > 0, d <= 1000 else {
                throw ConfigError(place: at(n), key: key, message: "expected a percentage such as 80%")
            }
            return Int(d.rounded())
        }

        func mapping(_ n: Yams.Node, _ key: String) throws -> Yams.Node.Mapping {
            guard let m = n.mapping else { throw ConfigError(place: at(n), key: key, message: "expected a mapping, got a \(kind(n))") }
            return m
        }

        mutating func budgets(_ n: Yams.Node) throws {
            for (k, v) in try mapping(n, "budgets") {
                let key = k.string ?? ""
                switch key {
                case "global":
                    for (gk, gv) in try mapping(v, "budgets.global") {
                        let g = gk.string ?? ""
                        let path = "budgets.global.\(g)"
                        switch g {
                        case "daily_limit": put(["budget", "daily", "tokens"], .integer(try tokens(gv, path)), gv)
                        case "weekly_limit": put(["budget", "weekly", "tokens"], .integer(try tokens(gv, path)), gv)
                        case "monthly_limit": put(["budget", "monthly", "tokens"], .integer(try tokens(gv, path)), gv)
                        case "run_limit": put(["budget", "run", "tokens"], .integer(try tokens(gv, path)), gv)
                        case "total_limit", "total_budget": put(["budget", "total", "tokens"], .integer(try tokens(gv, path)), gv)
                        case "alert_threshold", "warning_threshold":
                            put(["budget", "thresholds"], .array([.integer(try percent(gv, path))]), gv)
                        default:
                            throw ConfigError(place: at(gk), key: path,
                                              message: "unknown setting (known: daily_limit, weekly_limit, monthly_limit, run_limit, total_limit, alert_threshold)")
                        }
                    }
                case "per_workflow", "per_model", "per_agent":
                    let table = key == "per_workflow" ? "workflows" : key == "per_model" ? "models" : "agents"
                    for (nk, nv) in try mapping(v, "budgets.\(key)") {
                        let name = nk.string ?? ""
                        if nv.mapping != nil {
                            // { tokens: …, usd: …, daily: …, monthly: … }: checked as the TOML table is.
                            put(["budget", table, name], try value(nv, "budgets.\(key).\(name)"), nv)
                        } else {
                            put(["budget", table, name, "tokens"], .integer(try tokens(nv, "budgets.\(key).\(name)")), nv)
                        }
                    }
                default:
                    throw ConfigError(place: at(k), key: "budgets.\(key)",
                                      message: "unknown section (known: global, per_workflow, per_model, per_agent)")
                }
            }
        }

        mutating func alerts(_ n: Yams.Node) throws {
            for (k, v) in try mapping(n, "alerts") {
                let key = k.string ?? ""
                guard key == "channels" else {
                    // The TOML layout ([alerts.console] …) written in YAML.
                    put(["alerts", key], try value(v, "alerts.\(key)"), v)
                    continue
                }
                guard let list = v.sequence else {
                    throw ConfigError(place: at(v), key: "alerts.channels", message: "expected a list of channels")
                }
                var seen = Set<String>()
                for item in list {
                    let m = try mapping(item, "alerts.channels")
                    let type = m["type"]?.string ?? ""
                    var fields: [String: TOMLValue] = [:]
                    if let t = m["threshold"] { fields["threshold"] = .integer(try percent(t, "alerts.channels.threshold")) }
                    let channel: String
                    switch type {
                    case "console": channel = "console"
                    case "slack", "webhook":
                        channel = "webhook"
                        guard let url = (m["webhook"] ?? m["url"])?.string else {
                            throw ConfigError(place: at(item), key: "alerts.channels", message: "a \(type) channel needs webhook: URL")
                        }
                        fields["url"] = .string(url)
                    case "file", "jsonl":
                        channel = "file"
                        guard let p = m["path"]?.string else {
                            throw ConfigError(place: at(item), key: "alerts.channels", message: "a file channel needs path: FILE")
                        }
                        fields["path"] = .string(p)
                    case "command":
                        channel = "command"
                        guard let run = (m["run"] ?? m["command"])?.string else {
                            throw ConfigError(place: at(item), key: "alerts.channels", message: "a command channel needs run: COMMAND")
                        }
                        fields["run"] = .string(run)
                    case "email":
                        channel = "email"
                        guard let to = m["to"]?.string else {
                            throw ConfigError(place: at(item), key: "alerts.channels", message: "an email channel needs to: ADDRESS")
                        }
                        fields["to"] = .string(to)
                        if let program = m["sendmail"]?.string { fields["sendmail"] = .string(program) }
                    default:
                        throw ConfigError(place: at(item), key: "alerts.channels.type",
                                          message: "unknown channel type '\(type)' (known: console, file, webhook, slack, command, email)")
                    }
                    guard seen.insert(channel).inserted else {
                        throw ConfigError(place: at(item), key: "alerts.channels", message: "a second \(channel) channel: one of each kind is supported")
                    }
                    var t = TOMLTable()
                    for (fk, fv) in fields.sorted(by: { $0.key < $1.key }) { t.set(fk, fv, line: item.mark?.line ?? 0, source: source) }
                    put(["alerts", channel], .table(t), item)
                }
            }
        }

        mutating func optimizations(_ n: Yams.Node) throws {
            for (k, v) in try mapping(n, "optimizations") {
                let key = k.string ?? ""
                let m = try mapping(v, "optimizations.\(key)")
                let enabled = m["enabled"]?.bool ?? true
                switch key {
                case "model_downgrade":
                    guard enabled else { continue }
                    guard let to = m["to"]?.string else {
                        throw ConfigError(place: at(v), key: "optimizations.model_downgrade.to", message: "missing: the model to switch to")
                    }
                    // trigger: usage > 80%
                    let trigger = m["trigger"]?.string ?? "usage > 80%"
                    let number = trigger.split(whereSeparator: { !$0.isNumber && $0 != "." }).last.map(String.init) ?? ""
                    guard let at_ = Double(number), at_ > 0, at_ <= 100 else {
                        throw ConfigError(place: at(m["trigger"] ?? v), key: "optimizations.model_downgrade.trigger",
                                          message: "expected 'usage > N%', got '\(trigger)'")
                    }
                    var t = TOMLTable()
                    t.set("at", .integer(Int(at_.rounded())), line: v.mark?.line ?? 0, source: source)
                    t.set("to", .string(to), line: v.mark?.line ?? 0, source: source)
                    if let from = m["from"]?.string { t.set("from", .string(from), line: v.mark?.line ?? 0, source: source) }
                    put(["budget", "degrade", "cheaper_model"], .table(t), v)
                case "caching":
                    put(["budget", "cache"], .bool(enabled), v)
                default:
                    if enabled {
                        notes.append("\(at(k)): optimizations.\(key) is not something Omega does; ignored")
                    }
                }
            }
        }
    }
}
