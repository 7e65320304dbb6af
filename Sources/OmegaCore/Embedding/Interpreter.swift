import Foundation
import Synchronization

/// One Omega interpreter: its heap, symbols, global environment and machine.
///
/// Interpreters share nothing: two in one process have separate heaps and
/// globals and may run on different threads (each one on one thread at a
/// time).
///
/// ```swift
/// let omega = try Interpreter()
/// let v = try omega.evaluate("(+ 1 2)")        // 3
/// omega.define("twice", arity: 1) { interp, x in
///     try interp.call(interp.global("+")!, x, x)
/// }
/// ```
public final class Interpreter {
    /// Settings fixed when the interpreter is made.
    public struct Options {
        /// The most value-stack slots recursion may use (about 5 per frame of
        /// a simple recursive procedure). Beyond it a `stackOverflow` error is
        /// raised. Default 32 M slots (256 MB).
        public var stackLimit = 32 << 20
        /// Procedure calls allowed per top-level evaluation; nil = unlimited.
        public var stepLimit: Int? = nil
        /// The most bytes (estimated) of Scheme data the interpreter may hold;
        /// beyond it an `out of memory` error is raised, which a program can
        /// catch and after which the interpreter is usable. Default 1 GiB.
        public var memoryLimit = Heap.defaultLimit
        /// Seconds a top-level evaluation may run; nil = unlimited. Past it a
        /// `time limit exceeded` error is raised (at the next procedure call).
        public var timeLimit: Double? = nil
        /// What scripts may touch (files, environment, exit, load, model
        /// calls, the clock); everything by default.
        public var capabilities = Capabilities.all
        /// Where `display`, `write` and `newline` go by default.
        public var output: OutputTarget = .standardOutput
        /// Directories `import` searches for library files (`(import (my lib))`
        /// loads `my/lib.sld`), before the importing file's directory and the
        /// working directory. Default: `$OMEGA_LIB_PATH`, colon-separated.
        public var libraryPath: [String] = (getenv("OMEGA_LIB_PATH").map { String(cString: $0) } ?? "")
            .split(separator: ":").map(String.init)
        /// Load the Scheme standard library (stdlib/*.scm) at start-up.
        public var loadStandardLibrary = true
        /// A file that keeps the standard library (and the opened libraries'
        /// Scheme) compiled between runs: read when it matches this build's
        /// sources, else compiled from them and written (see `LibraryImage`).
        /// nil: compile at every start. `Session` sets one for the CLI and hosts.
        public var libraryImage: String? = nil
        /// Collect garbage at every safe point (very slow): for testing that
        /// nothing reachable is ever freed. Also set by `OMEGA_GC_STRESS=1`.
        public var gcStress = getenv("OMEGA_GC_STRESS").map { String(cString: $0) } == "1"
        /// Libraries of native procedures the host opens beyond the Scheme
        /// ones (OmegaModels' `ModelLibrary` makes `effect`, `with-budget` and
        /// the rest), opened in this order before the standard library loads.
        public var libraries: [any SchemeLibrary] = []

        /// Defaults: everything allowed, no step or time limit, 1 GiB of data, standard output.
        public init() {}
    }

    package let heap = Heap()
    let symbols: SymbolTable
    let syms: Syms
    package let sourceFiles = SourceFiles()
    /// Where `import` looks for library files (see `Options.libraryPath`).
    let libraryPath: [String]
    /// The built-ins and the standard library's definitions (see `GlobalEnvironment`).
    let systemEnvironment: GlobalEnvironment
    /// What programs, the REPL and hosts see: the system environment's
    /// copy, made once the standard library has loaded.
    private(set) var userEnvironment: GlobalEnvironment
    @exclusivity(unchecked) package private(set) var vm: VM!
    private(set) var expander: Expander!
    /// Values kept alive for the interpreter's lifetime.
    var permanent: [Value] = []
    /// Built-in procedures by name, as first defined (derived forms refer to
    /// these so user redefinitions do not change them).
    private var builtins: [String: Value] = [:]
    private var handles: [Int: Value] = [:]
    private var nextHandle = 0
    /// The port `display` and friends write to by default.
    var currentOutput: OutputPort!
    /// File output ports opened by the program, flushed when an evaluation ends.
    var openFilePorts: [WeakPort] = []
    /// What scripts may touch (`Options.capabilities`); a host may change it between evaluations.
    public var capabilities = Capabilities.all
    /// `current-error-port`: standard error unless a program parameterizes it.
    var currentError: OutputPort!
    /// The port `read-char` and friends read from by default.
    var currentInput: InputPort!
    /// Guards the recursive compiler and printer against the thread's stack.
    var stackGuard = StackGuard()
    /// The command-line arguments a script sees through `(command-line)`.
    public var commandLine: [String] = ["omega"]
    /// What opened libraries keep per interpreter (see `InterpreterAttachment`).
    var attachments: [any InterpreterAttachment] = []
    /// The names of the libraries opened, for `(import (NAME …))`.
    private(set) var openedLibraryNames: Set<String> = []

    /// Makes an interpreter with the built-in procedures and the standard library.
    public init(options: Options = Options()) throws {
        symbols = SymbolTable(heap: heap)
        systemEnvironment = GlobalEnvironment(name: "system", heap: heap)
        libraryPath = options.libraryPath
        userEnvironment = systemEnvironment
        syms = Syms(symbols)
        vm = VM(interp: self, maxCapacity: options.stackLimit)
        heap.limit = options.memoryLimit
        capabilities = options.capabilities
        vm.timeLimit = options.timeLimit
        heap.requestSafePoint = { [unowned self] in self.vm.requestSafePoint() }
        vm.stepLimit = options.stepLimit
        vm.gcStress = options.gcStress
        expander = Expander(interp: self)
        currentOutput = heap.register(OutputPort(target: options.output))
        currentError = heap.register(OutputPort(target: .standardError))
        currentInput = heap.register(InputPort(standardInputNamed: "stdin"))
        heap.rootProviders.append { [unowned self] marker in self.traceRoots(&marker) }
        BaseLibrary.register(in: self)
        for library in options.libraries {
            try library.open(in: self)
            openedLibraryNames.insert(library.name)
        }
        if options.loadStandardLibrary {
            let sources = (EmbeddedStdlib.sources + options.libraries.flatMap { $0.schemeSources })
                .map { (name: "stdlib/\($0.name)", text: $0.text) }
            try loadLibraries(sources, image: options.libraryImage)
            vm.raiseProcedure = global("%raise") ?? .unspecified
            vm.raiseContinuableProcedure = global("%raise-continuable") ?? .unspecified
        }
        userEnvironment = systemEnvironment.derived(name: "user")
        expander.environment = userEnvironment
    }

    private func traceRoots(_ marker: inout Marker) {
        symbols.trace(&marker)
        systemEnvironment.trace(&marker)
        if userEnvironment !== systemEnvironment { userEnvironment.trace(&marker) }
        for library in expander.libraries.values { library.environment.trace(&marker) }
        for v in builtins.values { marker.mark(v) }
        for v in handles.values { marker.mark(v) }
        for v in permanent { marker.mark(v) }
        marker.mark(object: currentOutput)
        marker.mark(object: currentError)
        marker.mark(object: currentInput)
        vm.trace(&marker)
    }

    /// Runs a full garbage collection now.
    public func collectGarbage() { heap.collect() }

    // MARK: Evaluation

    /// Reads and evaluates every form in `source`; returns the last value.
    ///
    /// - Parameter sourceName: the file name errors report.
    /// - Throws: `OmegaError` for read, syntax and runtime errors.
    @discardableResult
    public func evaluate(_ source: String, sourceName: String = "<string>") throws -> Value {
        var result = Value.unspecified
        try evaluate(source, sourceName: sourceName) { result = $0 }
        return result
    }

    /// Reads and evaluates every form in `source`, handing each form's value
    /// to `each` as soon as it is computed (a REPL prints them one by one).
    /// A later form's error is thrown after the earlier values were handed on.
    public func evaluate(_ source: String, sourceName: String, each: (Value) throws -> Void) throws {
        stackGuard.enter()
        defer { endOfEvaluation() }
        var reader = Reader(source, fileID: sourceFiles.id(for: sourceName), interp: self)
        do {
            while true {
                // Between top-level forms nothing is held: after an out-of-memory
                // error, collect now, or the next allocation would be judged
                // against what was live before the error.
                if vm.runDepth == 0 && heap.forceCollection { heap.collect() }
                guard let form = try reader.read() else { break }
                try each(try eval(form))
            }
        } catch let e as SchemeError {
            if e.kind == .outOfMemory { heap.forceCollection = true }
            // Nothing can take the answers of calls still in flight once the
            // whole evaluation has failed (a budget stop inside parallel-map,
            // an interrupt): cancel them and settle their reservations.
            if vm.runDepth == 0 { for a in attachments { a.evaluationFailed(self) } }
            throw report(e)
        }
        flushOutput()
    }

    /// When a top-level evaluation ends, however it ended, the budget scopes
    /// it opened end with it (a failed, declined, interrupted or escaped
    /// `with-budget` must not go on charging and refusing later calls).
    private func endOfEvaluation() {
        if vm.runDepth == 0 { for a in attachments { a.evaluationEnded(self) } }
    }

    /// Evaluates the file at `path` (relative paths from the working directory).
    @discardableResult
    public func evaluateFile(_ path: String) throws -> Value {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw OmegaError(kind: .file, message: "cannot read \(path): \(Interpreter.describeFileError(error))",
                             location: nil, backtrace: [], exitStatus: 0)
        }
        return try evaluate(text, sourceName: path)
    }

    package static func describeFileError(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue)).lowercased()
        }
        if ns.domain == NSCocoaErrorDomain && ns.code == NSFileReadNoSuchFileError { return "no such file" }
        if ns.domain == NSCocoaErrorDomain && (ns.code == NSFileReadInapplicableStringEncodingError || ns.code == NSFileReadCorruptFileError) { return "not valid UTF-8 text" }
        return ns.localizedDescription
    }

    /// Compiles and runs one datum.
    /// Compiles and runs `form` against another top-level environment (`eval`'s second argument).
    func eval(_ form: Value, in environment: GlobalEnvironment) throws -> Value {
        let saved = expander.environment
        expander.environment = environment
        defer { expander.environment = saved }
        return try eval(form)
    }

    func eval(_ form: Value) throws -> Value {
        vm.compilationStarts()
        let template: Template
        do {
            template = try CodeGenerator.generate(try expander.expandToplevel(form), interp: self)
        } catch {
            vm.compilationFailed()
            throw error
        }
        return try run(topLevel: template)
    }

    /// Runs the compiled thunk of a top-level form.
    func run(topLevel template: Template) throws -> Value {
        let thunk = heap.register(Closure(template: template, freeCount: 0))
        let outer = topLevelFormLocation
        if let first = template.locations.first?.location, first.isKnown, !isLibraryLocation(first) {
            topLevelFormLocation = first
        }
        defer { topLevelFormLocation = outer }
        return try vm.apply(Value(object: thunk), [])
    }

    /// Where the top-level form being evaluated starts: where an error is
    /// placed when no frame of the user's is left to name (a form that
    /// tail-called a library procedure).
    private var topLevelFormLocation = SourceLocation.none

    /// Calls a Scheme procedure from Swift.
    ///
    /// - Throws: `OmegaError` when the procedure raises an uncaught error.
    public func call(_ procedure: Value, _ arguments: Value...) throws -> Value {
        try call(procedure, arguments: arguments)
    }

    /// Calls a Scheme procedure with an argument array.
    public func call(_ procedure: Value, arguments: [Value]) throws -> Value {
        stackGuard.enter()
        defer { endOfEvaluation() }
        do {
            return try vm.apply(procedure, arguments)
        } catch let e as SchemeError {
            throw report(e)
        }
    }

    /// Asks the running evaluation to stop with an `interrupted` error at its
    /// next procedure call. Safe to call from any thread (e.g. a signal
    /// handler's dispatch source).
    public func interrupt() { vm.interrupts.interrupt() }

    /// What another thread holds to interrupt this interpreter (an
    /// interpreter itself is used by one thread at a time, so it is not
    /// `Sendable`; this is).
    public var interruptSwitch: InterruptSwitch { vm.interrupts }

    // MARK: Errors

    /// Converts an error that no Scheme handler caught into the host's form,
    /// with the location and backtrace of the machine state at the failure.
    func uncaught(_ e: SchemeError, vm: VM) -> SchemeError {
        var e = e
        if e.isFinal { return e }
        if e.kind == .raise || e.kind == .raiseContinuable {
            // A raised error object keeps the place it was made.
            if e.payload.isObject(of: .errorObject) { return uncaughtRaise(e.payload) }
            let payload = e.payload
            e = SchemeError(.error, "uncaught exception: ", irritants: [payload])
            e.procedure = ""
        }
        e.isFinal = true
        if !e.location.isKnown { e.location = vm.currentLocation() }
        let frames = vm.backtrace()
        // An error inside a library procedure (map, for-each …) is reported
        // at the user's call of it.
        if isLibraryLocation(e.location) {
            if let user = frames.first(where: { $0.location.isKnown && !isLibraryLocation($0.location) }) {
                e.location = user.location
            } else {
                let site = vm.latestTailCallSite()
                if site.isKnown && !isLibraryLocation(site) {
                    e.location = site
                } else if topLevelFormLocation.isKnown {
                    e.location = topLevelFormLocation
                }
            }
        }
        if pendingBacktrace == nil {
            // The library's own plumbing (effect dispatch, fibers, winders)
            // says nothing to the user; named library procedures (map) do.
            pendingBacktrace = frames.filter { !isLibraryPlumbing($0) }.map { frame in
                if let loc = sourceFiles.describe(frame.location) { return "\(frame.name) (\(loc))" }
                return frame.name
            }
        }
        return e
    }
    private var pendingBacktrace: [String]?

    /// A frame of the standard library's internals: a `%` procedure, an
    /// anonymous one, or the control plumbing every dynamic-wind goes through.
    private func isLibraryPlumbing(_ frame: (name: String, location: SourceLocation)) -> Bool {
        guard isLibraryLocation(frame.location) else { return false }
        return frame.name.hasPrefix("%") || frame.name == "anonymous procedure"
            || ["call-with-values", "dynamic-wind", "with-exception-handler", "parameterize", "apply"].contains(frame.name)
    }

    /// Whether a location is in the embedded standard library.
    private func isLibraryLocation(_ loc: SourceLocation) -> Bool {
        loc.isKnown && sourceFiles.name(of: loc).hasPrefix("stdlib/")
    }

    /// The error as a Scheme condition, located and with its backtrace.
    package func errorObject(for e: SchemeError, vm: VM) -> Value {
        var located = e
        located.isFinal = false
        let final = uncaught(located, vm: vm)
        let trace = pendingBacktrace ?? []
        pendingBacktrace = nil
        var message = e.message
        if let p = e.procedure, !p.isEmpty { message = "\(p): \(message)" }
        let inMessage = message.hasSuffix(" ") && !e.irritants.isEmpty
        if inMessage {
            message += irritantText(e.irritants[0])
            for v in e.irritants.dropFirst() { message += " " + irritantText(v) }
        }
        return Value(object: heap.register(ErrorObject(kind: e.kind, message: message, irritants: e.irritants,
                                                       irritantsInMessage: inMessage, location: final.location,
                                                       backtrace: trace)))
    }

    /// The error for a raised object no handler took: error objects keep
    /// their own location and backtrace.
    func uncaughtRaise(_ obj: Value) -> SchemeError {
        if let err = obj.as(ErrorObject.self) {
            var e = SchemeError(err.errorKind, err.message, irritants: err.irritantsInMessage ? [] : err.irritants,
                                location: err.location)
            e.procedure = ""
            e.isFinal = true
            pendingBacktrace = err.backtrace
            return e
        }
        var e = SchemeError(.error, "uncaught exception: ", irritants: [obj])
        e.procedure = ""
        return e
    }

    /// Renders a SchemeError for the host.
    func report(_ e: SchemeError) -> OmegaError {
        var message = e.message
        if let p = e.procedure, !p.isEmpty { message = "\(p): \(message)" }
        for (i, v) in e.irritants.enumerated() {
            // "expected a pair, got " reads on with the offending value.
            if i == 0 && message.hasSuffix(" ") { message += irritantText(v) } else { message += " " + irritantText(v) }
        }
        let kind: OmegaError.Kind
        switch e.kind {
        case .syntax: kind = .syntax
        case .read: kind = .read
        case .file: kind = .file
        case .stackOverflow: kind = .stackOverflow
        case .stepLimit: kind = .stepLimit
        case .interrupted: kind = .interrupted
        case .exit: kind = .exit
        case .outOfMemory: kind = .outOfMemory
        case .budget: kind = .budget
        default: kind = .error
        }
        let trace = pendingBacktrace ?? []
        pendingBacktrace = nil
        flushOutput()
        return OmegaError(kind: kind, message: message, location: sourceFiles.describe(e.location),
                          backtrace: trace, exitStatus: e.exitStatus)
    }

    // MARK: Globals

    /// The cell of a global variable in the environment code is compiled
    /// against now (the user's, once the standard library has loaded),
    /// created unbound if new.
    func globalCell(for name: Symbol) -> GlobalCell { expander.environment.cell(for: name) }

    /// The value of a global variable, or nil when it is unbound.
    public func global(_ name: String) -> Value? {
        let v = globalCell(for: symbols.intern(name)).value
        return v.raw == Value.unbound.raw ? nil : v
    }

    /// Binds a global variable.
    public func setGlobal(_ name: String, _ value: Value) {
        let cell = globalCell(for: symbols.intern(name))
        cell.value = value
        if cell.integrable.raw != Value.unbound.raw && cell.integrable.raw != value.raw {
            vm.integrablesRedefined = true
        }
    }

    /// Names of all bound globals (for completion and `:defs`).
    public var globalNames: [String] {
        userEnvironment.cells.values.filter { $0.value.raw != Value.unbound.raw }.map { $0.name.name }.sorted()
    }

    /// Registers a built-in procedure.
    func definePrimitive(_ name: String, _ min: Int, _ max: Int, _ body: PrimitiveBody) {
        let p = Value(object: heap.register(Primitive(name: name, body: body, minArgs: min, maxArgs: max)))
        let cell = globalCell(for: symbols.intern(name))
        cell.value = p
        if builtins[name] == nil { builtins[name] = p }
        if Opcode.isInlinable(name) { cell.integrable = p }
    }

    /// A built-in procedure as first defined, whatever the global now holds.
    func builtin(_ name: String) -> Value { builtins[name] ?? .unspecified }

    // MARK: Values for hosts

    /// Makes a Scheme value from a Swift one: `Int`, `Double`, `Bool`,
    /// `String`, arrays (as lists) and `Value` itself.
    public func value(_ x: Any) -> Value {
        switch x {
        case let v as Value: return v
        case let i as Int: return heap.integer(i)
        case let d as Double: return heap.flonum(d)
        case let b as Bool: return Value(b)
        case let s as String: return makeString(s)
        case let a as [Any]: return list(a.map { value($0) })
        default: return .unspecified
        }
    }

    /// A fresh mutable Scheme string.
    public func makeString(_ s: String) -> Value { Value(object: heap.register(SchemeString(s))) }

    /// The interned symbol with this name.
    public func symbol(_ name: String) -> Value { Value(object: symbols.intern(name)) }

    /// A new pair `(a . b)`.
    public func cons(_ a: Value, _ b: Value) -> Value { heap.pair(a, b) }

    /// A new proper list of `items`.
    public func list(_ items: [Value]) -> Value {
        var r = Value.null
        for v in items.reversed() { r = cons(v, r) }
        return r
    }

    /// The value in `write` form: `"a\nb"`, `(1 2)`, `#\a`. Text longer
    /// than the heap's limit is cut short with `...`.
    public func writeString(_ v: Value) -> String {
        printedForm(v, display: false, sharing: .cycles).text
    }

    /// The value in `display` form: strings and characters without quotes
    /// (cut short as `writeString`).
    public func displayString(_ v: Value) -> String {
        printedForm(v, display: true, sharing: .cycles).text
    }

    /// A value in an error message, in write form, cut short with `...`
    /// past `irritantTextLimit` bytes: an error's message is made whenever
    /// it is raised, and a million-element list (or shared structure that
    /// prints exponentially long) must not make every error take seconds.
    func irritantText(_ v: Value) -> String {
        printedForm(v, display: false, sharing: .cycles, limit: Interpreter.irritantTextLimit).text
    }

    /// The most bytes of one value an error message shows.
    static let irritantTextLimit = 10_000

    /// The text `write`, `write-shared`, `write-simple` (`display: false`) or
    /// `display` puts on a port. Shared structure can print exponentially
    /// long: text that would not fit in the heap's room raises `out of memory`.
    func printed(_ v: Value, display: Bool, sharing: Printer.Sharing) throws -> String {
        let room = max(heap.limit &- heap.liveBytes, 0)
        let (text, complete) = printedForm(v, display: display, sharing: sharing, limit: room)
        guard complete else {
            throw SchemeError.outOfMemory("the text of this \(display ? "display" : "write") (shared structure prints in full at every path to it)",
                                          bytes: room &+ 1, limit: heap.limit)
        }
        return text
    }

    private func printedForm(_ v: Value, display: Bool, sharing: Printer.Sharing,
                             limit: Int? = nil) -> (text: String, complete: Bool) {
        stackGuard.enter()
        var p = Printer(interp: self, display: display)
        p.limit = limit ?? heap.limit
        p.print(v, sharing: sharing)
        return p.overflowed ? (p.out + "...", false) : (p.out, true)
    }

    /// The Swift string of a Scheme string value, else nil.
    public func string(_ v: Value) -> String? { v.as(SchemeString.self)?.string }

    /// The integer of an exact integer value that fits an `Int`, else nil.
    public func int(_ v: Value) -> Int? {
        if v.isFixnum { return v.fixnum }
        if let n = Num(v), case .big(let b) = n { return b.smallValue }
        return nil
    }

    /// The number as a `Double` (exact numbers converted), else nil.
    public func double(_ v: Value) -> Double? { Num(v)?.doubleValue }

    /// The elements of a proper list, else nil.
    public func array(_ v: Value) -> [Value]? { listToArray(v) }

    // MARK: Handles

    /// Keeps `value` alive until `release(_:)`. Values the host keeps across
    /// evaluations must be held this way (the collector does not see Swift
    /// variables).
    public func retain(_ value: Value) -> SchemeHandle {
        nextHandle += 1
        handles[nextHandle] = value
        return SchemeHandle(id: nextHandle, value: value)
    }

    /// Keeps a value alive as long as the interpreter.
    func keepAlive(_ v: Value) { permanent.append(v) }

    /// Runs `body` with `v` kept alive: for Swift code that holds a value
    /// while it calls into Scheme (where a collection may happen).
    func keeping<T>(_ v: Value, _ body: () throws -> T) rethrows -> T {
        let index = permanent.count
        permanent.append(v)
        defer { if index < permanent.count && permanent[index].raw == v.raw { permanent.remove(at: index) } }
        return try body()
    }

    /// Lets the collector reclaim a value kept by `retain(_:)`.
    public func release(_ handle: SchemeHandle) { handles[handle.id] = nil }

    // MARK: Output

    /// Writes any buffered output: the current output port's and every file
    /// port's still open (a program that never closes its file keeps what
    /// it wrote).
    public func flushOutput() {
        currentOutput.flush()
        openFilePorts.removeAll { $0.port == nil }
        for ref in openFilePorts { ref.port?.flushIfOpen() }
    }

    /// Remembers a file output port so `flushOutput` writes its buffer.
    func trackFilePort(_ port: any FlushablePort) { openFilePorts.append(WeakPort(port: port)) }

    /// Ends the current output line if something was written on it (so a
    /// prompt starts at the left margin).
    public func freshLine() {
        if !currentOutput.atLineStart { currentOutput.write("\n") }
        currentOutput.flush()
    }
}

/// A value the host keeps alive across evaluations (see `Interpreter.retain`).
public struct SchemeHandle: Hashable {
    let id: Int
    /// The value; valid until the handle is released.
    public let value: Value
}

/// Symbols the compiler and libraries compare against, interned once.
struct Syms {
    let quote, quasiquote, unquote, unquoteSplicing, lambda, define, set, `if`, begin: Symbol
    let `let`, letStar, letrec, letrecStar, `do`, cond, `case`, and, or, when, unless: Symbol
    let `else`, arrow: Symbol
    let defineSyntax, letSyntax, letrecSyntax, syntaxRules, syntaxError, ellipsis, underscore: Symbol
    // Private keywords for derived-form rewrites (uninterned: no user code can name them).
    let kIf, kBegin, kLet, kLambda, kQuote, kOr, kCond: Symbol

    init(_ t: SymbolTable) {
        quote = t.intern("quote"); quasiquote = t.intern("quasiquote"); unquote = t.intern("unquote")
        unquoteSplicing = t.intern("unquote-splicing"); lambda = t.intern("lambda"); define = t.intern("define")
        set = t.intern("set!"); `if` = t.intern("if"); begin = t.intern("begin")
        `let` = t.intern("let"); letStar = t.intern("let*"); letrec = t.intern("letrec")
        letrecStar = t.intern("letrec*"); `do` = t.intern("do"); cond = t.intern("cond"); `case` = t.intern("case")
        and = t.intern("and"); or = t.intern("or"); when = t.intern("when"); unless = t.intern("unless")
        `else` = t.intern("else"); arrow = t.intern("=>")
        defineSyntax = t.intern("define-syntax"); letSyntax = t.intern("let-syntax")
        letrecSyntax = t.intern("letrec-syntax"); syntaxRules = t.intern("syntax-rules")
        syntaxError = t.intern("syntax-error"); ellipsis = t.intern("..."); underscore = t.intern("_")
        kIf = t.gensym("if"); kBegin = t.gensym("begin"); kLet = t.gensym("let"); kLambda = t.gensym("lambda")
        kQuote = t.gensym("quote"); kOr = t.gensym("or"); kCond = t.gensym("cond")
    }
}

extension Interpreter {
    /// True when `source` ends inside an unfinished expression (an open
    /// list, string or block comment), so a prompt should read more lines.
    public func needsMoreInput(_ source: String) -> Bool {
        var reader = Reader(source, fileID: 0, interp: self)
        do {
            while try reader.read() != nil {}
            return false
        } catch let e as SchemeError {
            return e.kind == .read && (e.message.hasPrefix("unexpected end of input") || e.message.hasPrefix("unterminated"))
        } catch {
            return false
        }
    }
}

extension Value {
    /// True for the value of expressions whose value is unspecified.
    public var isUnspecified: Bool { raw == Value.unspecified.raw }
}

/// Stops a running evaluation at its next procedure call with an
/// `interrupted` error; safe from any thread (a signal handler's queue, a
/// watchdog). Get one from `Interpreter.interruptSwitch`.
public final class InterruptSwitch: Sendable {
    package let requested = Atomic<Bool>(false)
    init() {}
    /// Asks the evaluation running now to stop.
    public func interrupt() { requested.store(true, ordering: .relaxed) }
}
