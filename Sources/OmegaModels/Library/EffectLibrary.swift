import Foundation
import OmegaCore

/// The native half of `(effect …)` (the Scheme half, handlers and
/// `parallel-map`, is stdlib/40-effects.scm):
///
///     (%effect-submit op prompt options)  → ticket     meter, then start the call
///     (%effect-wait tickets)              → ticket     block until one is done
///     (%effect-take ticket)               → fields     the result, or raise its error
///
/// `options` is an association list already merged with the dynamic context
/// (`with-model`, `with-agent`, `with-workflow`).
enum EffectLibrary: NativeLibrary {
    static func register(in interp: Interpreter) {
        // (%effect-submit op prompt options site [approved]): `approved` is
        // set by %submit when a handler or the host approved a refusal.
        interp.define("%effect-submit", min: 4, max: 5) { interp, args in
            // Errors name the user's call, not the library's plumbing.
            let site = location(args[3])
            func located(_ e: SchemeError) -> SchemeError {
                var e = e
                if !e.location.isKnown { e.location = site ?? .none }
                return e
            }
            var request: InferenceRequest
            do {
                try interp.require(.effects, "effect")
                request = try makeRequest(interp, op: args[0], prompt: args[1], options: args[2])
            } catch let e as SchemeError { throw located(e) }
            request.callSite = site
            request.budgetApproved = args.count == 5 && args[4] != .false
            do {
                return .init(fixnum: try interp.effects.submit(request))
            } catch let e as SchemeError {
                throw located(e)
            } catch let e as BudgetEmergencyStop {
                throw located(fail(.budget, request.operation, e.message))
            } catch {
                // A refusal is returned, not raised: the Scheme side raises
                // it continuably so a handler can approve the call.
                if let condition = BudgetLibrary.condition(error, interp) { return condition }
                throw located(fail(.error, request.operation, "\(error)"))
            }
        }
        interp.define("%effect-wait") { interp, tickets in
            let list = try Check.list(tickets).map { try Check.int($0) }
            do {
                let t = try interp.effects.wait(for: list) {
                    interp.vm.interrupts.requested.load(ordering: .relaxed)
                }
                return .init(fixnum: t)
            } catch is EffectEngine.Interrupted {
                interp.vm.interrupts.requested.store(false, ordering: .relaxed)
                throw SchemeError(.interrupted, "interrupted (calls in flight were cancelled)")
            } catch {
                throw SchemeError(.error, "%effect-wait: no such call in flight", irritants: [tickets])
            }
        }
        interp.define("%effect-take") { interp, ticket in
            let t = try Check.int(ticket)
            let request = interp.effects.request(for: t)
            let stoppedBefore = interp.meter.emergency != nil
            guard let outcome = interp.effects.take(t) else {
                throw SchemeError(.error, "%effect-take: the call is not finished or was already taken", irritants: [ticket])
            }
            if !stoppedBefore, let stop = interp.meter.emergency {
                throw fail(.budget, request?.operation ?? "effect", stop.message)
            }
            switch outcome {
            case .success(let r):
                if r.simulated {
                    interp.noteOnce("model calls are answered by the offline simulator (choose a real backend with --backend)")
                }
                return resultFields(r, interp)
            case .failure(let e as BackendError):
                var error = fail(.effect, request?.operation ?? "effect", "\(e.message) (model \(request?.model ?? "?"), request \(request?.id ?? "?")):",
                                 [interp.symbol(e.kind.rawValue)])
                error.location = request?.callSite ?? .none
                throw error
            case .failure(let e):
                var error = fail(.effect, request?.operation ?? "effect", "\(e) (model \(request?.model ?? "?"), request \(request?.id ?? "?")):",
                                 [interp.symbol("error")])
                error.location = request?.callSite ?? .none
                throw error
            }
        }
        // `max-tokens:` → `max-tokens`; per option of every call, so in Swift.
        interp.define("%option-name") { interp, x in
            guard let sym = x.as(Symbol.self) else {
                throw SchemeError(.type, "effect: an option name must be a symbol, got ", irritants: [x])
            }
            let name = sym.name
            guard name.count > 1, name.hasSuffix(":") else { return x }
            return interp.symbol(String(name.dropLast()))
        }
        interp.define("%error-object-payload") { _, e in
            guard let o = e.as(ErrorObject.self) else { throw SchemeError.wrongType(e, expected: "an error object", argument: 1) }
            return o.payload
        }
        interp.define("%error-object-payload-set!") { _, e, v in
            guard let o = e.as(ErrorObject.self) else { throw SchemeError.wrongType(e, expected: "an error object", argument: 1) }
            o.payload = v
            return .unspecified
        }
        // Where the running library procedure was called from in the
        // user's program (an integer), or #f: errors name that place.
        interp.define("%call-site") { interp in
            let site = interp.vm.callSite()
            return site.isKnown ? interp.heap.integer(Int(truncatingIfNeeded: site.packed)) : .false
        }
        // Places an error object at a call site (a parallel-map's failure at its call).
        interp.define("%error-object-locate!") { interp, e, site in
            guard let o = e.as(ErrorObject.self) else { throw SchemeError.wrongType(e, expected: "an error object", argument: 1) }
            if let loc = location(site) {
                o.location = loc
                o.backtrace = []
            }
            return .unspecified
        }
        interp.define("%effect-drain") { interp, tickets in
            let answered = interp.effects.drain(try Check.list(tickets).map { try Check.int($0) })
            return interp.list(answered.map { resultFields($0, interp) })
        }
        interp.define("effect-error?") { _, x in
            Value(x.as(ErrorObject.self)?.errorKind == .effect)
        }
        interp.define("%default-max-in-flight") { interp in .init(fixnum: interp.effectSettings.maxInFlight) }
        interp.define("%default-samples") { interp in .init(fixnum: interp.effectSettings.samples) }
        interp.define("%default-model") { interp in interp.makeString(interp.models.defaultModel) }
        interp.define("%backend-name") { interp in interp.makeString(interp.effects.backend.name) }
    }

    /// A call site made by `%call-site`, or nil.
    static func location(_ v: Value) -> SourceLocation? {
        guard v.isFixnum, v.fixnum > 0 else { return nil }
        return SourceLocation(packed: UInt64(v.fixnum))
    }

    /// An error reported as coming from the operation (`infer.op: …`), not
    /// from the private primitive that noticed it.
    static func fail(_ kind: SchemeError.Kind, _ operation: String, _ message: String, _ irritants: [Value] = []) -> SchemeError {
        var e = SchemeError(kind, message, irritants: irritants)
        e.procedure = operation
        return e
    }

    /// The fields of an inference-result record, in the order of its constructor.
    static func resultFields(_ r: InferenceResult, _ interp: Interpreter) -> Value {
        interp.list([
            interp.makeString(r.text), interp.makeString(r.model), interp.makeString(r.finishReason),
            .init(fixnum: r.usage.inputTokens), .init(fixnum: r.usage.outputTokens), .init(fixnum: r.usage.cacheReadTokens),
            r.cost.map { TokenLibrary.dollars($0, interp) } ?? .false,
            interp.heap.flonum(r.latency), interp.makeString(r.backend), interp.makeString(r.requestID),
            Value(r.simulated), interp.symbol(r.usageSource.rawValue), .init(fixnum: r.usage.reasoningTokens),
        ])
    }

    static func makeRequest(_ interp: Interpreter, op: Value, prompt: Value, options: Value) throws -> InferenceRequest {
        let operation = try Check.symbol(op, 1).name
        let p = try Prompt.from(prompt, in: interp, argument: 2)
        var opts: [String: Value] = [:]
        for item in try Check.list(options, 3) {
            guard item.isPair, let key = item.pair.car.as(Symbol.self)?.name else {
                throw fail(.type, operation, "options must be (name . value) pairs, got ", [item])
            }
            if opts[key] == nil { opts[key] = item.pair.cdr }   // the first (innermost) wins
        }
        func text(_ key: String) throws -> String? {
            guard let v = opts[key], v != .false else { return nil }
            if let s = interp.string(v) { return s }
            if let s = v.as(Symbol.self) { return s.name }
            throw fail(.type, operation, "option \(key) must be a string or symbol, got ", [v])
        }
        func count(_ key: String) throws -> Int? {
            guard let v = opts[key], v != .false else { return nil }
            guard v.isFixnum, v.fixnum > 0 else {
                throw fail(.type, operation, "option \(key) must be a positive integer, got ", [v])
            }
            return v.fixnum
        }
        func real(_ key: String, _ range: ClosedRange<Double>) throws -> Double? {
            guard let v = opts[key], v != .false else { return nil }
            guard let n = Num(v) else { throw fail(.type, operation, "option \(key) must be a number, got ", [v]) }
            guard let d = CheckedNumber.within(n.doubleValue, range) else {
                throw fail(.range, operation, "option \(key) must be a number from \(CheckedNumber.describe(range)), got ", [v])
            }
            return d
        }
        // The simulator's options are checked here, where the script's value is at hand.
        let simulation = SimulationOptions(latency: try real("simulate-latency", 0...3600), fault: try text("simulate-fault"),
                                           overrun: try real("simulate-overrun", 0...1000))
        let model = try text("model") ?? interp.models.defaultModel
        let system = try text("system")
        var stop: [String] = []
        if let v = opts["stop"], v != .false {
            if let s = interp.string(v) { stop = [s] } else {
                stop = try Check.list(v, 3).map { x in
                    guard let s = interp.string(x) else { throw fail(.type, operation, "stop must be a string or a list of strings, got ", [v]) }
                    return s
                }
            }
        }
        // Approval comes from a handler or the host, never from an option a
        // program can write (it would pass every budget).
        if opts["budget-approved"] != nil {
            throw fail(.type, operation, "budget-approved is not an option: a refused call is approved by a handler (return #t) or the host")
        }
        let known: Set<String> = ["model", "max-tokens", "temperature", "stop", "system", "agent", "workflow", "timeout", "sample", "n",
                                  "budget-scope", "shared-budget", "stream", "provider-fields", "simulate-latency", "simulate-fault", "simulate-overrun"]
        var stream: Bool? = nil
        if let v = opts["stream"] {
            guard v.raw == Value.true.raw || v.isFalse else { throw fail(.type, operation, "option stream must be #t or #f, got ", [v]) }
            stream = v.raw == Value.true.raw
        }
        var extra: [String: JSONValue] = [:]
        for (k, v) in opts where !known.contains(k) {
            extra[k] = JSONValue.from(v, interp) ?? .string(interp.displayString(v))
        }
        let providerFields = try self.providerFields(opts["provider-fields"], operation, interp)

        let maxTokens = try count("max-tokens") ?? interp.effectSettings.defaultMaxTokens
        // No model answers with more; a typo must not become a reservation
        // (or a simulated answer) of billions of tokens.
        guard maxTokens <= 10_000_000 else {
            throw fail(.range, operation, "option max-tokens must be at most 10000000, got ", [.init(fixnum: maxTokens)])
        }
        var request = InferenceRequest(
            operation: operation, prompt: p, model: model, maxTokens: maxTokens,
            temperature: try real("temperature", 0...10), stop: stop, system: system,
            agent: try text("agent"), workflow: try text("workflow"),
            promptTokens: TokenCount(tokens: 0, exact: true, encoding: nil, note: nil),
            timeout: try real("timeout", 0.001...1_000_000) ?? interp.effectSettings.timeout,
            sample: opts["sample"].flatMap { $0.isFixnum ? $0.fixnum : nil } ?? 0, extra: extra)
        request.stream = stream
        request.simulation = simulation
        request.providerFields = providerFields
        request.promptTokens = interp.models.tokens.count(messages: request.messages, model: model)
        // Every enclosing with-budget scope (the context lists them innermost first).
        // … and every enclosing with-shared-budget, innermost first, each once.
        for item in try Check.list(options, 3) {
            switch item.pair.car.as(Symbol.self)?.name {
            case "budget-scope"?:
                if item.pair.cdr.isFixnum { request.budgetScopes.append(item.pair.cdr.fixnum) }
            case "shared-budget"?:
                guard let name = interp.string(item.pair.cdr), !name.isEmpty else {
                    throw fail(.type, operation, "a shared budget's name must be a non-empty string, got ", [item.pair.cdr])
                }
                if !request.sharedBudgets.contains(name) { request.sharedBudgets.append(name) }
            default: break
            }
        }
        return request
    }
}

extension EffectLibrary {
    /// Request-body fields a call may not set through `'provider-fields`:
    /// they would change what the meter reserved or how the answer arrives.
    static let reservedProviderFields: Set<String> = [
        "model", "messages", "prompt", "system", "max_tokens", "max_completion_tokens", "max_output_tokens",
        "num_predict", "n", "best_of", "stream", "stream_options", "options",
    ]

    /// `'provider-fields`: a list of `(name . value)` pairs whose values JSON
    /// can hold, added to the request body.
    static func providerFields(_ option: Value?, _ operation: String, _ interp: Interpreter) throws -> [String: JSONValue] {
        guard let option, option != .false else { return [:] }
        guard let value = JSONValue.from(option, interp), case .object(let fields) = value else {
            throw fail(.type, operation, "option provider-fields must be a list of (name . value) pairs, got ", [option])
        }
        if let bad = fields.keys.sorted().first(where: { reservedProviderFields.contains($0) }) {
            throw fail(.range, operation, "option provider-fields may not set \(bad): Omega sets it from the call's own options (the meter reserves by them)")
        }
        return fields
    }
}

extension JSONValue {
    /// A Scheme value as JSON: booleans, exact integers, reals, strings and
    /// symbols (as strings), lists of `(name . value)` pairs as objects,
    /// other lists and vectors as arrays, `'()` as an empty array. Nil for
    /// what JSON cannot hold (procedures, non-finite numbers, nesting deeper
    /// than 64 levels).
    static func from(_ v: Value, _ interp: Interpreter, depth: Int = 0) -> JSONValue? {
        guard depth < 64 else { return nil }
        if v.raw == Value.true.raw { return .bool(true) }
        if v.isFalse { return .bool(false) }
        if v.isFixnum { return .integer(v.fixnum) }
        if let s = interp.string(v) { return .string(s) }
        if let s = v.as(Symbol.self) { return .string(s.name) }
        if let n = Num(v) {
            if let i = interp.int(v) { return .integer(i) }
            let d = n.doubleValue
            return d.isFinite ? .number(d) : nil
        }
        if let vector = v.as(SchemeVector.self) {
            var items: [JSONValue] = []
            for x in vector.items { guard let j = from(x, interp, depth: depth + 1) else { return nil }; items.append(j) }
            return .array(items)
        }
        guard let list = interp.array(v) else { return nil }
        let isObject = !list.isEmpty && list.allSatisfy { $0.isPair && ($0.pair.car.as(Symbol.self) != nil || interp.string($0.pair.car) != nil) }
        if isObject {
            var object: [String: JSONValue] = [:]
            for item in list {
                let key = item.pair.car.as(Symbol.self)?.name ?? interp.string(item.pair.car) ?? ""
                guard let j = from(item.pair.cdr, interp, depth: depth + 1) else { return nil }
                if object[key] == nil { object[key] = j }
            }
            return .object(object)
        }
        var items: [JSONValue] = []
        for x in list { guard let j = from(x, interp, depth: depth + 1) else { return nil }; items.append(j) }
        return .array(items)
    }
}

/// Settings of the effect path a host or the configuration may change.
public struct EffectSettings: Sendable {
    /// `max-tokens` when a call gives none (the meter reserves this much output).
    public var defaultMaxTokens = 512
    /// Seconds before a call times out.
    public var timeout: Double = 120
    /// Calls `parallel-map` keeps in flight when not told.
    public var maxInFlight = 4
    /// Samples `search.op` draws when not told.
    public var samples = 3

    /// The defaults: 512 output tokens, 120 s, 4 in flight, 3 samples.
    public init() {}
}
