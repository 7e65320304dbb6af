import Foundation
import OmegaCore

/// The one place a run is set up: flags, environment, configuration files
/// and defaults become a resolved configuration (with each value's source,
/// `settings`), the ledger is opened, and the meter and backend are built
/// and attached to an interpreter. The `omega` command, its REPL, `omega
/// tokens`, `omega config show` and embedding hosts all go through it.
///
/// ```swift
/// var flags = Session.Flags()
/// flags.budget = 10_000
/// let session = try Session(flags: flags)
/// let omega = try session.makeInterpreter()
/// try omega.evaluate(#"(effect infer.op "Say hi")"#)
/// session.endRun(outcome: "ok")
/// ```
public final class Session {
    /// What the caller asks for, as the command line spells it; nil means
    /// "not given" (the environment, then the files, then the default decide).
    public struct Flags: Sendable {
        /// `--config FILE`: this file instead of the layered search.
        public var config: String?
        /// `--model NAME`.
        public var model: String?
        /// `--backend NAME`.
        public var backend: String?
        /// `--record FILE`.
        public var record: String?
        /// `--replay FILE`.
        public var replay: String?
        /// `--budget TOKENS` (0: unlimited).
        public var budget: Int?
        /// `--ledger PATH` (`none`: keep no ledger).
        public var ledger: String?
        /// `--resume RUN`.
        public var resume: String?
        /// `--memory-limit` in bytes.
        public var memoryLimit: Int?
        /// `--time-limit` in seconds.
        public var timeLimit: Double?
        /// `--sandbox`.
        public var sandbox = false
        /// `--allow LIST`, parsed.
        public var allow: Capabilities?
        /// No flags: everything from the environment, the files and the defaults.
        public init() {}
    }

    /// One setting in force, as text, and where it came from: a file and
    /// line, `$VARIABLE`, `--flag`, the ledger, or `default`.
    public struct Setting: Equatable, Sendable {
        /// The key, as the configuration file writes it (`budget.run.tokens`).
        public var key: String
        /// The value, as TOML writes it.
        public var value: String
        /// Where it came from.
        public var source: String
        /// A setting and its source.
        public init(key: String, value: String, source: String) {
            self.key = key
            self.value = value
            self.source = source
        }
    }

    /// The flags this session was made with.
    public let flags: Flags
    /// The environment it read (the process's unless a host gave another).
    public let environment: [String: String]
    /// The configuration files, layered.
    public let configuration: Configuration
    /// Budgets: the files, the ledger's `omega tokens budget` limits, the
    /// environment and the flags, in that order of precedence (last wins).
    public private(set) var policy: BudgetPolicy
    /// Models, prices and token counting.
    public let models: ModelSettings
    /// Defaults of the effect path.
    public let effectSettings: EffectSettings
    /// The ledger's path, or `none`.
    public let ledgerPath: String
    /// The opened ledger (nil with `--ledger none`, or before `openLedger`):
    /// the SQLite file, or a PostgreSQL server for a `postgres://` URL.
    public private(set) var ledger: (any LedgerStore)?
    /// Every setting in force and its source: what `omega config show`
    /// prints — what was set, and the defaults still in force (worked out
    /// when asked: the time zone's name is not looked up at every start).
    public var settings: [Setting] { withDefaults(recordedSettings) }
    /// The settings the files, the environment, the flags and the ledger gave.
    private(set) var recordedSettings: [Setting] = []
    /// Things the user should know (a YAML key read as another, a ledger
    /// warning), each once; the caller writes them to standard error.
    public private(set) var notes: [String] = []
    /// Problems that did not stop the session (lines of a ledger's spool it
    /// could not read); the caller writes them to standard error.
    public private(set) var warnings: [String] = []

    /// Resolves the configuration. Throws `ConfigError` (naming the file,
    /// line and key, or the variable) for a setting that makes no sense.
    public init(flags: Flags = Flags(), environment: [String: String] = ProcessEnvironment.variables()) throws {
        self.flags = flags
        self.environment = environment
        configuration = try Configuration.load(path: flags.config)
        notes = configuration.notes
        policy = try configuration.budgetPolicy()
        models = try ModelSettings(configuration: configuration, defaultModel: flags.model)
        effectSettings = try configuration.effectSettings()
        let configuredLedger = try configuration.ledgerPath()
        ledgerPath = Ledger.path(flag: flags.ledger, configured: configuredLedger, environment: environment)
        recordedSettings = Session.flatten(configuration.root, prefix: "")
        recordModelAndBackend()
        let ledgerSource = flags.ledger != nil ? "--ledger" : !(environment["OMEGA_LEDGER"] ?? "").isEmpty ? "$OMEGA_LEDGER"
            : configuredLedger != nil ? (configuration.lookup(configuration.ledgerKey)?.place ?? "config") : "default"
        if Session.isServerURL(ledgerPath) {
            set("ledger.url", Session.quoted(PostgresSQL.redacted(ledgerPath)), ledgerSource)
        } else {
            set("ledger.path", Session.quoted(ledgerPath), ledgerSource)
        }
    }

    // MARK: The ledger

    /// Opens the ledger (once) and lays its `omega tokens budget` limits
    /// under the environment's and the flags'. With `create: false` a ledger
    /// file that does not exist is not made (nil is returned). A ledger that
    /// cannot be opened or read is a `SetupError`.
    @discardableResult
    public func openLedger(create: Bool = true) throws -> (any LedgerStore)? {
        if let ledger { return ledger }
        if isServerLedger || (ledgerPath != "none" && (create || FileManager.default.fileExists(atPath: ledgerPath))) {
            let store: any LedgerStore = try SetupError.wrapping {
                if isServerLedger { return try PostgresLedger(url: ledgerPath, lease: policy.ledgerLease) as any LedgerStore }
                return try Ledger(path: ledgerPath) as any LedgerStore
            }
            warnings += store.warnings
            let overrides = try SetupError.wrapping { try store.budgetOverrides() }
            policy.apply(overrides)
            for o in overrides { set(Session.key(of: o), Session.value(of: o), "ledger (omega tokens budget, \(ISO8601DateFormatter().string(from: o.setAt)))") }
            ledger = store
        }
        try applyEnvironmentAndFlags()
        return ledger
    }

    private var environmentApplied = false

    /// Whether the ledger is a PostgreSQL server (`postgres://…`) rather than a file.
    public var isServerLedger: Bool { Session.isServerURL(ledgerPath) }

    /// Whether a ledger setting names a PostgreSQL server rather than a file.
    public static func isServerURL(_ s: String) -> Bool { s.hasPrefix("postgres://") || s.hasPrefix("postgresql://") }

    /// `$OMEGA_TOKEN_BUDGET`, `$OMEGA_TOKEN_WARNING_THRESHOLD` and `--budget`
    /// over the policy (flags beat the environment beat the ledger and files).
    private func applyEnvironmentAndFlags() throws {
        guard !environmentApplied else { return }
        environmentApplied = true
        if let text = environment["OMEGA_TOKEN_BUDGET"], !text.isEmpty {
            guard let n = Int64(text), n >= 0 else {
                throw ConfigError(place: "$OMEGA_TOKEN_BUDGET", message: "expected a number of tokens, got '\(text)'")
            }
            policy.run[.tokens] = n == 0 ? nil : n   // 0 = unlimited, as in the tracker's config
            set("budget.run.tokens", n == 0 ? "unlimited" : "\(n)", "$OMEGA_TOKEN_BUDGET")
        }
        if let text = environment["OMEGA_TOKEN_WARNING_THRESHOLD"], !text.isEmpty {
            guard let d = Double(text), d > 0, d <= 100 else {
                throw ConfigError(place: "$OMEGA_TOKEN_WARNING_THRESHOLD", message: "expected a percentage 1–100, got '\(text)'")
            }
            policy.thresholds = [Int(d.rounded(.down))]
            set("budget.thresholds", "[\(Int(d.rounded(.down)))]", "$OMEGA_TOKEN_WARNING_THRESHOLD")
        }
        if let b = flags.budget {
            policy.run[.tokens] = b == 0 ? nil : Int64(b)
            set("budget.run.tokens", b == 0 ? "unlimited" : "\(b)", "--budget")
        }
    }

    // MARK: Interpreters

    /// The interpreter limits the configuration and flags set, over `base`
    /// (flags beat the files).
    public func interpreterOptions(_ base: Interpreter.Options = Interpreter.Options()) throws -> Interpreter.Options {
        var options = base
        if options.libraryImage == nil { options.libraryImage = libraryImagePath }
        if let m = try configuration.memoryLimit() { options.memoryLimit = m }
        if let m = flags.memoryLimit { options.memoryLimit = m }
        if let t = try configuration.timeLimit() { options.timeLimit = t }
        if let t = flags.timeLimit { options.timeLimit = t }
        if let c = try configuration.capabilities() { options.capabilities = c }
        if flags.sandbox || flags.allow != nil {
            options.capabilities = (flags.sandbox ? Capabilities.sandbox : options.capabilities).union(flags.allow ?? [])
        }
        return options
    }

    /// The backend the flags, environment and files choose.
    public func makeBackend() throws -> ModelBackend {
        try BackendSelection(name: flags.backend, record: flags.record, replay: flags.replay)
            .make(configuration: configuration, models: models)
    }

    /// The meter of a run of `script` (a path, `<-e>`, `<repl>`, or a host's
    /// name): the policy, the ledger (opened now), `--resume`, and the run's
    /// start recorded in the ledger.
    public func makeMeter(script: String) throws -> Meter {
        let store = try openLedger()
        let meter = Meter(policy: policy, ledger: store, models: models, script: script)
        if let run = flags.resume {
            guard let store, let found = try store.run(run) else {
                throw LedgerError("--resume: no run \(run) in the ledger \(ledgerPath)")
            }
            let n = try meter.resume(from: found.id)
            notes.append("resuming \(found.id): \(n) completed calls will be answered from the ledger")
        }
        try store?.startRun(id: meter.runID, script: script, resumedFrom: flags.resume, started: Date())
        return meter
    }

    /// The model runtime of a run: this session's models, effect defaults,
    /// backend and meter.
    public func modelLibrary(script: String) throws -> ModelLibrary {
        var library = ModelLibrary()
        library.models = models
        library.effects = effectSettings
        library.backend = try makeBackend()
        library.meter = try makeMeter(script: script)
        return library
    }

    /// An interpreter for a run of `script`, with the model runtime attached
    /// and the economy/emergency mode the ledger keeps applied. Throws
    /// `ConfigError` for a bad setting, `SetupError` for a ledger, backend or
    /// resumed run that cannot be had, `OmegaError` if the interpreter
    /// cannot start.
    public func makeInterpreter(script: String = "<host>", options base: Interpreter.Options = Interpreter.Options()) throws -> Interpreter {
        let options = try interpreterOptions(base)
        let library = try SetupError.wrapping { try modelLibrary(script: script) }
        let interp = try Interpreter(options: options, models: library)
        if let note = try SetupError.wrapping({ try applyKeptMode(interp) }) { notes.append(note) }
        self.interpreter = interp
        return interp
    }

    /// The interpreter `makeInterpreter` made last (its meter's run is the
    /// one `endRun` records). Held strongly: a weak reference would give the
    /// interpreter a side table, and every `unowned` reference to it (the
    /// VM's, on every call) would take the runtime's slow path.
    public private(set) var interpreter: Interpreter?

    /// Records the end of the run in the ledger and closes it. `outcome`:
    /// `ok`, `error` or `budget`.
    public func endRun(outcome: String) throws {
        guard let interp = interpreter, let store = interp.meter.ledger else { return }
        try store.endRun(id: interp.meter.runID, outcome: outcome, totals: interp.meter.runTotals, ended: Date())
        try store.close()
    }

    /// The spending modes (`omega tokens mode`, `:tokens mode`), and what
    /// each does to every later call.
    public static let modes: [(name: String, does: String)] = [
        ("economy", "expensive models go to their cheaper siblings, outputs at most 500 tokens, answers cached"),
        ("emergency", "expensive models go to their cheaper siblings, outputs at most 150 tokens, answers cached"),
        ("standard", "calls go out as the program asks"),
    ]

    /// Puts a run in the mode its ledger keeps; returns a note for the user,
    /// or nil in standard mode.
    public func applyKeptMode(_ interp: Interpreter) throws -> String? {
        guard let ledger = interp.meter.ledger, let name = try ledger.setting("mode"), name != "standard",
              let mode = Session.modes.first(where: { $0.name == name }) else { return nil }
        _ = try interp.evaluate("(\(mode.name)-mode!)", sourceName: "<tokens mode>")
        return "\(mode.name) mode: \(mode.does) (set with `omega tokens mode`; `omega tokens mode standard` ends it)"
    }

    /// Says what a setting is and where it came from.
    func set(_ key: String, _ value: String, _ source: String) {
        recordedSettings.removeAll { $0.key == key }
        recordedSettings.append(Setting(key: key, value: value, source: source))
    }
}

/// A run could not be set up as asked: a ledger that cannot be opened, a
/// replay file that cannot be read, a run to resume that is not there. Like
/// a bad configuration (`ConfigError`), it is the caller's to fix, and the
/// `omega` command exits 2 for it.
public struct SetupError: Error, CustomStringConvertible {
    /// What went wrong underneath.
    public let underlying: any Error
    /// A setup error caused by `underlying`.
    public init(_ underlying: any Error) { self.underlying = underlying }
    public var description: String { "\(underlying)" }

    /// Runs `body`, turning its errors into setup errors (a `ConfigError`
    /// stays what it is).
    static func wrapping<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ConfigError { throw e } catch let e as SetupError { throw e } catch { throw SetupError(error) }
    }
}
