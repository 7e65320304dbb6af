import Foundation
import OmegaCore

/// How a session names each setting and its source, for `omega config show`:
/// the files' leaves with their file and line, then what the environment,
/// the flags and the ledger laid over them, then the defaults still in force.
extension Session {
    /// The model and the backend: flag, environment, file, default; the
    /// servers' addresses and keys from the environment (keys never shown).
    func recordModelAndBackend() {
        if let m = flags.model { set("model", Session.quoted(m), "--model") }
        else if let m = environment["OMEGA_MODEL"], !m.isEmpty { set("model", Session.quoted(m), "$OMEGA_MODEL") }
        if let b = flags.backend { set("backend", Session.quoted(b), "--backend") }
        else if let b = environment["OMEGA_BACKEND"], !b.isEmpty { set("backend", Session.quoted(b), "$OMEGA_BACKEND") }
        for (variable, key) in [("OPENAI_BASE_URL", "openai.base-url"), ("ANTHROPIC_BASE_URL", "anthropic.base-url"), ("OLLAMA_HOST", "ollama.host")] {
            if let v = environment[variable], !v.isEmpty { set(key, Session.quoted(v), "$\(variable)") }
        }
        for variable in ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"] where !(environment[variable] ?? "").isEmpty {
            set(variable.lowercased().replacingOccurrences(of: "_api_key", with: ".api-key"), "(set, not shown)", "$\(variable)")
        }
    }

    /// `recorded` with the defaults of every setting nothing else gave, and
    /// the thresholds as the meter uses them (a tracker-layout
    /// `warning_threshold` replaces the list and is shown as what it became).
    func withDefaults(_ recorded: [Setting]) -> [Setting] {
        var all = recorded
        func set(_ key: String, _ value: String, _ source: String) {
            all.removeAll { $0.key == key }
            all.append(Setting(key: key, value: value, source: source))
        }
        func defaultValue(_ key: String, _ value: @autoclosure () -> String) {
            if !all.contains(where: { $0.key == key }) { set(key, value(), "default") }
        }
        defaultValue("model", Session.quoted(ModelSettings.defaultModelName))
        defaultValue("backend", "\"simulate\"")
        let used = "[" + policy.thresholds.map(String.init).joined(separator: ", ") + "]"
        if !all.contains(where: { $0.key == "budget.thresholds" && $0.source.hasPrefix("$") }),
           let (_, place) = configuration.lookup("token_budget.warning_threshold") {
            set("budget.thresholds", used, "\(place) (token_budget.warning_threshold)")
        }
        defaultValue("budget.thresholds", used)
        defaultValue("budget.emergency_percent", "110")
        defaultValue("budget.cache", "false")
        defaultValue("budget.time_zone", Session.quoted(TimeZone.current.identifier))
        defaultValue("repl.approvals", "\"ask\"")
        if let h = environment["OMEGA_HISTORY"], !h.isEmpty { set("repl.history", Session.quoted(h), "$OMEGA_HISTORY") }
        defaultValue("repl.history", Session.quoted(defaultHistoryPath))
        return all
    }

    /// `$XDG_STATE_HOME/omega/history`, else `~/.local/state/omega/history`.
    public var defaultHistoryPath: String {
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (ProcessEnvironment.home(environment) + "/.local/state")
        return state + "/omega/history"
    }

    /// Where interpreters keep the standard library compiled between runs
    /// (`Interpreter.Options.libraryImage`): `$OMEGA_LIBRARY_IMAGE` (`none`:
    /// compile at every start), else `$XDG_CACHE_HOME/omega/library-VERSION.image`,
    /// else under `~/.cache`.
    public var libraryImagePath: String? {
        if let p = environment["OMEGA_LIBRARY_IMAGE"], !p.isEmpty { return p == "none" ? nil : p }
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (ProcessEnvironment.home(environment) + "/.cache")
        return cache + "/omega/library-\(OmegaVersion.string).image"
    }

    /// The configuration key a limit set with `omega tokens budget` stands for.
    static func key(of o: Ledger.BudgetOverride) -> String {
        let within = o.window.map { "\($0.adjective)." } ?? ""
        switch o.kind {
        case .workflow: return "budget.workflows.\(o.name).\(within)\(o.unit.rawValue)"
        case .agent: return "budget.agents.\(o.name).\(within)\(o.unit.rawValue)"
        case .model: return "budget.models.\(o.name).\(within)\(o.unit.rawValue)"
        case .shared: return "budget.shared.\(o.name).\(within)\(o.unit.rawValue)"
        case .day: return "budget.daily.\(o.unit.rawValue)"
        case .week: return "budget.weekly.\(o.unit.rawValue)"
        case .month: return "budget.monthly.\(o.unit.rawValue)"
        default: return "budget.\(o.kind.rawValue).\(o.unit.rawValue)"
        }
    }

    static func value(of o: Ledger.BudgetOverride) -> String {
        o.unit == .usd ? Money(picodollars: o.amount).description.replacingOccurrences(of: "$", with: "") : "\(o.amount)"
    }

    /// Every leaf of the table as `a.b.c = value`, with its file and line.
    static func flatten(_ table: TOMLTable, prefix: String) -> [Setting] {
        var out: [Setting] = []
        for k in table.keys {
            guard let v = table[k] else { continue }
            let key = prefix.isEmpty ? k : "\(prefix).\(k)"
            if case .table(let sub) = v {
                out += flatten(sub, prefix: key)
            } else {
                // A server's password never reaches a listing.
                let shown = key == "ledger.url" ? v.redactingPassword : v
                out.append(Setting(key: key, value: render(shown), source: "\(table.sources[k] ?? "config"):\(table.lines[k] ?? 0)"))
            }
        }
        return out
    }

    static func render(_ v: TOMLValue) -> String {
        switch v {
        case .string(let s): return quoted(s)
        case .integer(let i): return "\(i)"
        case .decimal(let d): return d
        case .bool(let b): return b ? "true" : "false"
        case .array(let items): return "[" + items.map(render).joined(separator: ", ") + "]"
        case .table(let t): return "{" + t.keys.compactMap { k in t[k].map { "\(k) = \(render($0))" } }.joined(separator: ", ") + "}"
        }
    }

    /// A string as TOML writes it.
    public static func quoted(_ s: String) -> String {
        // Escaped by hand: Foundation's replacingOccurrences costs its
        // first caller 0.2 ms of set-up, and this runs at every start.
        var out = "\""
        for c in s.unicodeScalars {
            if c == "\\" || c == "\"" { out.unicodeScalars.append("\\") }
            out.unicodeScalars.append(c)
        }
        return out + "\""
    }
}

extension TOMLValue {
    /// A URL string with its password masked; other values unchanged.
    var redactingPassword: TOMLValue {
        if case .string(let s) = self { return .string(PostgresSQL.redacted(s)) }
        return self
    }
}
