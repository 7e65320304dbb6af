import OmegaCore

/// The model runtime as a library a host opens in an interpreter: `effect`,
/// `parallel-map`, `with-budget`, token counting and the rest of the
/// `(omega …)` procedures, with their own meter and backend per interpreter.
///
/// ```swift
/// var options = Interpreter.Options()
/// var models = ModelLibrary()
/// models.backend = try OpenAIBackend(…)       // default: the offline simulator
/// options.libraries = [models]
/// let omega = try Interpreter(options: options)
/// omega.meter.addScope(…)
/// ```
///
/// A `Session` builds one from flags, environment and configuration files.
public struct ModelLibrary: SchemeLibrary {
    /// Models, prices and token counting (see `ModelSettings`).
    public var models = ModelSettings()
    /// Where `(effect …)` calls go; nil: the offline simulator.
    public var backend: ModelBackend? = nil
    /// Defaults of the effect path (max tokens, timeout, concurrency).
    public var effects = EffectSettings()
    /// The meter that charges calls; nil: one with no limits and no ledger
    /// (calls are still counted, for `budget-status`).
    public var meter: Meter? = nil

    /// The simulator, no limits, no ledger, the default models and prices.
    public init() {}

    /// Libraries named `(omega …)`.
    public var name: String { "omega" }

    public var schemeSources: [(name: String, text: String)] { EmbeddedStdlib.sources }

    public func open(in interp: Interpreter) throws {
        interp.attach(ModelRuntime(self))
        TokenLibrary.register(in: interp)
        EffectLibrary.register(in: interp)
        BudgetLibrary.register(in: interp)
    }
}

/// What the model runtime keeps with one interpreter: its settings, its
/// meter and its backend. Reached as `interp.meter`, `interp.effects`, ….
public final class ModelRuntime: InterpreterAttachment {
    /// Models, prices and token counting, as the options set them.
    public var models: ModelSettings
    /// Runs model calls for `(effect …)`: the backend and the meter's seam.
    public let effects: EffectEngine
    /// Defaults of the effect path.
    public var effectSettings: EffectSettings
    /// Charges every call against the budgets in force (a dry run swaps in a
    /// meter of its own for a while).
    public internal(set) var meter: Meter
    /// Meters and backends put aside by dry runs (`forecast-budget-needs`), innermost last.
    var dryRunSaved: [(meter: Meter, backend: ModelBackend)] = []
    /// Asked when a budget refuses a call and no Scheme handler is installed
    /// to answer: a REPL asks its user. Nil lets the refusal stop the
    /// evaluation, as in a script.
    public var budgetApprover: ((BudgetExceeded) -> BudgetApproval)?
    /// Notes already written to standard error (each is written once).
    var notesGiven: Set<String> = []

    init(_ library: ModelLibrary) {
        models = library.models
        effects = EffectEngine(backend: library.backend
            ?? SimulatorBackend(tokens: library.models.tokens))
        effectSettings = library.effects
        meter = library.meter ?? Meter(models: library.models)
        effects.meter = meter
    }

    /// Calls still in flight when an evaluation fails have no one to take
    /// their answers (a budget stop inside `parallel-map`, an interrupt):
    /// cancel them and settle their reservations.
    public func evaluationFailed(_ interp: Interpreter) { effects.drainAll() }

    /// The budget scopes an evaluation opened end with it (a failed,
    /// declined, interrupted or escaped `with-budget` must not go on
    /// charging and refusing later calls).
    public func evaluationEnded(_ interp: Interpreter) {
        endDryRuns()
        meter.closeAllScopes()
    }

    /// A dry run an evaluation left unfinished (its thunk failed and no
    /// handler took the error, so its `dynamic-wind` never ran the end)
    /// must not outlive it: later calls would go to the simulator and its
    /// throwaway meter, charged against nothing and recorded nowhere.
    func endDryRuns() {
        guard let outermost = dryRunSaved.first else { return }
        dryRunSaved.removeAll()
        replaceMeter(outermost.meter)
        effects.backend = outermost.backend
    }

    /// Swaps in another meter (a dry run's), keeping the engine's in step.
    func replaceMeter(_ m: Meter) {
        meter = m
        effects.meter = m
    }
}

extension Interpreter {
    /// Creates an interpreter with the model runtime open (`ModelLibrary`).
    public convenience init(options: Options = Options(), models: ModelLibrary) throws {
        var o = options
        o.libraries.append(models)
        try self.init(options: o)
    }

    /// The model runtime attached to this interpreter. An interpreter made
    /// without `ModelLibrary` gets an unmetered simulator one on first use,
    /// so that a host reading `meter` never crashes.
    public var modelRuntime: ModelRuntime {
        if let r = attachment(ModelRuntime.self) { return r }
        let r = ModelRuntime(ModelLibrary())
        attach(r)
        return r
    }

    /// Models, prices and token counting (see `ModelSettings`).
    public var models: ModelSettings {
        get { modelRuntime.models }
        set { modelRuntime.models = newValue }
    }
    /// Runs model calls for `(effect …)`: the backend and the meter's seam.
    public var effects: EffectEngine { modelRuntime.effects }
    /// Defaults of the effect path.
    public var effectSettings: EffectSettings {
        get { modelRuntime.effectSettings }
        set { modelRuntime.effectSettings = newValue }
    }
    /// Charges every call against the budgets in force.
    public var meter: Meter { modelRuntime.meter }
    /// Asked when a budget refuses a call and no Scheme handler answers (see
    /// `ModelRuntime.budgetApprover`).
    public var budgetApprover: ((BudgetExceeded) -> BudgetApproval)? {
        get { modelRuntime.budgetApprover }
        set { modelRuntime.budgetApprover = newValue }
    }
}
