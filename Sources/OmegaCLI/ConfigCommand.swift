import ArgumentParser
import Foundation
import Omega

/// Where the settings that are not in files come from, in one place: the
/// runs use `applyEnvironmentAndFlags`, `omega config show` shows the same.
enum SettingSources {
    /// A setting, its value as text, and where it came from.
    struct Entry: Equatable {
        var key: String
        var value: String
        var source: String
    }

    /// Lays `$OMEGA_TOKEN_BUDGET`, `$OMEGA_TOKEN_WARNING_THRESHOLD` and
    /// `--budget` over the policy (flags beat the environment beat the files).
    @discardableResult
    static func applyEnvironmentAndFlags(to policy: inout BudgetPolicy, environment env: [String: String],
                                         budgetFlag: Int?) throws -> [Entry] {
        var entries: [Entry] = []
        if let text = env["OMEGA_TOKEN_BUDGET"], !text.isEmpty {
            guard let n = Int64(text), n >= 0 else {
                throw ConfigError(place: "$OMEGA_TOKEN_BUDGET", message: "expected a number of tokens, got '\(text)'")
            }
            policy.run[.tokens] = n == 0 ? nil : n   // 0 = unlimited, as in the tracker's config
            entries.append(Entry(key: "budget.run.tokens", value: n == 0 ? "unlimited" : "\(n)", source: "$OMEGA_TOKEN_BUDGET"))
        }
        if let text = env["OMEGA_TOKEN_WARNING_THRESHOLD"], !text.isEmpty {
            guard let d = Double(text), d > 0, d <= 100 else {
                throw ConfigError(place: "$OMEGA_TOKEN_WARNING_THRESHOLD", message: "expected a percentage 1–100, got '\(text)'")
            }
            policy.thresholds = [Int(d.rounded(.down))]
            entries.append(Entry(key: "budget.thresholds", value: "[\(Int(d.rounded(.down)))]", source: "$OMEGA_TOKEN_WARNING_THRESHOLD"))
        }
        if let b = budgetFlag {
            policy.run[.tokens] = b == 0 ? nil : Int64(b)
            entries.removeAll { $0.key == "budget.run.tokens" }
            entries.append(Entry(key: "budget.run.tokens", value: b == 0 ? "unlimited" : "\(b)", source: "--budget"))
        }
        return entries
    }
}

/// `omega config show`: the effective configuration and where each value came from.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show the effective configuration.",
        subcommands: [ConfigShow.self],
        defaultSubcommand: ConfigShow.self
    )
}

struct ConfigShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print every setting in force and where it came from: a file and line, the environment, a flag, the ledger, or the default.",
        discussion: "Give the flags a run would get (--budget, --model, --backend, --ledger) to see their effect."
    )

    @Option(name: .long, help: ArgumentHelp("Read this configuration file instead of the layered search.", valueName: "FILE"))
    var config: String?
    @Option(name: .long, help: ArgumentHelp("As `omega --ledger`.", valueName: "PATH")) var ledger: String?
    @Option(name: .long, help: ArgumentHelp("As `omega --budget`.", valueName: "TOKENS")) var budget: Int?
    @Option(name: .long, help: ArgumentHelp("As `omega --model`.", valueName: "NAME")) var model: String?
    @Option(name: .long, help: ArgumentHelp("As `omega --backend`.", valueName: "NAME")) var backend: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        var entries: [SettingSources.Entry] = []
        let files: [URL]
        let notes: [String]
        do {
            let configuration = try Configuration.load(path: config)
            files = configuration.files
            notes = configuration.notes
            // Fail as a run would on a setting that does not make sense.
            var policy = try configuration.budgetPolicy()
            let models = try ModelSettings(configuration: configuration)
            _ = try configuration.effectSettings()
            _ = try configuration.memoryLimit()
            // The backend as a run would make it (a replay needs its file from the command line).
            let chosen = BackendSelection(name: backend)
            let configuredBackend = try configuration.string("backend")
            if (backend ?? configuredBackend) != "replay" {
                _ = try chosen.make(configuration: configuration, models: models)
            }
            entries = ConfigShow.flatten(configuration.root, prefix: "")

            func set(_ key: String, _ value: String, _ source: String) {
                entries.removeAll { $0.key == key }
                entries.append(.init(key: key, value: value, source: source))
            }
            func defaultValue(_ key: String, _ value: String) {
                if !entries.contains(where: { $0.key == key }) { entries.append(.init(key: key, value: value, source: "default")) }
            }
            // The model and backend: flag, environment, file, default.
            if let m = model { set("model", ConfigShow.quoted(m), "--model") }
            else if let m = env["OMEGA_MODEL"], !m.isEmpty { set("model", ConfigShow.quoted(m), "$OMEGA_MODEL") }
            defaultValue("model", "\"gpt-4o-mini\"")
            if let b = backend { set("backend", ConfigShow.quoted(b), "--backend") }
            else if let b = env["OMEGA_BACKEND"], !b.isEmpty { set("backend", ConfigShow.quoted(b), "$OMEGA_BACKEND") }
            defaultValue("backend", "\"simulate\"")
            for (variable, key) in [("OPENAI_BASE_URL", "openai.base-url"), ("ANTHROPIC_BASE_URL", "anthropic.base-url"), ("OLLAMA_HOST", "ollama.host")] {
                if let v = env[variable], !v.isEmpty { set(key, ConfigShow.quoted(v), "$\(variable)") }
            }
            for variable in ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"] where !(env[variable] ?? "").isEmpty {
                set(variable.lowercased().replacingOccurrences(of: "_api_key", with: ".api-key"), "(set, not shown)", "$\(variable)")
            }
            // The ledger and what it holds.
            let configuredLedger = try configuration.ledgerPath()
            let path = Ledger.path(flag: ledger, configured: configuredLedger, environment: env)
            let ledgerSource = ledger != nil ? "--ledger" : !(env["OMEGA_LEDGER"] ?? "").isEmpty ? "$OMEGA_LEDGER"
                : configuredLedger != nil ? (configuration.lookup("ledger.path")?.place ?? "config") : "default"
            set("ledger.path", ConfigShow.quoted(path), ledgerSource)
            if path != "none", FileManager.default.fileExists(atPath: path) {
                let store = try Ledger(path: path)
                for o in try store.budgetOverrides() {
                    let key: String
                    let within = o.window.map { "\($0.adjective)." } ?? ""
                    switch o.kind {
                    case .workflow: key = "budget.workflows.\(o.name).\(within)\(o.unit.rawValue)"
                    case .agent: key = "budget.agents.\(o.name).\(within)\(o.unit.rawValue)"
                    case .model: key = "budget.models.\(o.name).\(within)\(o.unit.rawValue)"
                    case .day: key = "budget.daily.\(o.unit.rawValue)"
                    case .week: key = "budget.weekly.\(o.unit.rawValue)"
                    case .month: key = "budget.monthly.\(o.unit.rawValue)"
                    default: key = "budget.\(o.kind.rawValue).\(o.unit.rawValue)"
                    }
                    let value = o.unit == .usd ? Money(picodollars: o.amount).description.replacingOccurrences(of: "$", with: "") : "\(o.amount)"
                    set(key, value, "ledger (omega tokens budget, \(ISO8601DateFormatter().string(from: o.setAt)))")
                }
                try store.close()
            }
            for e in try SettingSources.applyEnvironmentAndFlags(to: &policy, environment: env, budgetFlag: budget) {
                set(e.key, e.value, e.source)
            }
            // The thresholds the meter uses: a tracker-layout warning_threshold
            // replaces the list, and is shown as what it became.
            let used = "[" + policy.thresholds.map(String.init).joined(separator: ", ") + "]"
            if !entries.contains(where: { $0.key == "budget.thresholds" && $0.source.hasPrefix("$") }),
               let (_, place) = configuration.lookup("token_budget.warning_threshold") {
                set("budget.thresholds", used, "\(place) (token_budget.warning_threshold)")
            }
            defaultValue("budget.thresholds", used)
            defaultValue("budget.emergency_percent", "110")
            defaultValue("budget.cache", "false")
            defaultValue("budget.time_zone", ConfigShow.quoted(TimeZone.current.identifier))
            defaultValue("repl.approvals", "\"ask\"")
            if let h = env["OMEGA_HISTORY"], !h.isEmpty { set("repl.history", ConfigShow.quoted(h), "$OMEGA_HISTORY") }
            let state = env["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/state")
            defaultValue("repl.history", ConfigShow.quoted(state + "/omega/history"))
        } catch let e as CLIError {
            throw e
        } catch {
            // A configuration that does not make sense stops a run with status
            // 2 (a usage error); showing it does the same.
            FileHandle.standardError.write(Data("omega config: \(error)\n".utf8))
            Foundation.exit(2)
        }
        entries.sort { $0.key < $1.key }
        if json {
            let object: [String: Any] = [
                "files": files.map(\.path),
                "settings": entries.map { ["key": $0.key, "value": $0.value, "source": $0.source] },
                "notes": notes,
            ]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) {
                print(String(decoding: data, as: UTF8.self))
            }
            return
        }
        print("Configuration files (each over the ones before):")
        if files.isEmpty { print("  none (searched: \(Configuration.searchPath().map(\.path).joined(separator: ", ")))") }
        for f in files { print("  \(f.path)") }
        print("")
        let keyWidth = min(40, entries.map(\.key.count).max() ?? 0)
        let valueWidth = min(36, entries.map(\.value.count).max() ?? 0)
        for e in entries {
            let k = e.key.count > keyWidth ? e.key : e.key.padding(toLength: keyWidth, withPad: " ", startingAt: 0)
            let v = e.value.count > valueWidth ? e.value : e.value.padding(toLength: valueWidth, withPad: " ", startingAt: 0)
            print("\(k)  \(v)  \(e.source)")
        }
        for n in notes { print("note: \(n)") }
    }

    /// Every leaf of the table as `a.b.c = value`, with its file and line.
    static func flatten(_ table: TOMLTable, prefix: String) -> [SettingSources.Entry] {
        var out: [SettingSources.Entry] = []
        for k in table.keys {
            guard let v = table[k] else { continue }
            let key = prefix.isEmpty ? k : "\(prefix).\(k)"
            if case .table(let sub) = v {
                out += flatten(sub, prefix: key)
            } else {
                out.append(.init(key: key, value: render(v), source: "\(table.sources[k] ?? "config"):\(table.lines[k] ?? 0)"))
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

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
