/// Runs Scheme test files written with two forms:
///
/// ```scheme
/// (test EXPECTED EXPR)   ; passes when (equal? EXPECTED EXPR)
/// (test-error EXPR)      ; passes when evaluating EXPR raises an error
/// ```
///
/// Each file runs in a fresh interpreter. An error inside a test counts as a
/// failure of that test and the file goes on. Failures print as
/// `FILE:LINE:COL: FAIL EXPR` with the expected and actual values; the run
/// ends with `N passed, N failed`.
public final class SchemeTestRunner {
    /// Tests that passed, over every file run so far.
    public private(set) var passed = 0
    /// Tests that failed (and files that could not run to the end).
    public private(set) var failed = 0
    /// Where report lines go (default: standard output).
    private let emit: (String) -> Void
    /// Libraries each file's interpreter opens (the `omega` command opens
    /// the model runtime, so test files may make model calls).
    private let options: Interpreter.Options

    /// A runner whose interpreters are made with `options` (its libraries too), reporting to `output`.
    public init(options: Interpreter.Options = Interpreter.Options(), output: @escaping (String) -> Void = { print($0) }) {
        self.options = options
        emit = output
    }

    /// Runs one test file; returns false when it could not run to the end.
    @discardableResult
    public func run(file path: String) -> Bool {
        let interp: Interpreter
        do {
            interp = try Interpreter(options: options)
        } catch {
            emit("\(path): FAIL could not start an interpreter: \(error)")
            failed += 1
            return false
        }
        install(in: interp)
        do {
            try interp.evaluateFile(path)
            return true
        } catch let e as OmegaError {
            emit("\(e.location ?? path): FAIL the file stopped with an error outside a test: \(e.message)")
            failed += 1
            return false
        } catch {
            emit("\(path): FAIL \(error)")
            failed += 1
            return false
        }
    }

    /// The closing line.
    public var summary: String { "\(passed) passed, \(failed) failed" }

    private func install(in interp: Interpreter) {
        let e = interp.expanderForExtensions
        let testHelper = interp.builtinTestHelper(runner: self)
        e.special(interp.symbols.intern("test")) { e, x, scope, loc, _ in
            let items = try e.shape(x, loc, min: 3, max: 3, usage: "(test expected expression)")
            let form = e.list(testHelper, e.list(e.sym.kQuote, items[2]),
                              e.list(e.sym.kLambda, .null, items[1]),
                              e.list(e.sym.kLambda, .null, items[2]),
                              e.interp.makeString(e.interp.sourceFiles.describe(loc) ?? "?"))
            return try e.expand(form, scope, loc)
        }
        e.special(interp.symbols.intern("test-error")) { e, x, scope, loc, _ in
            let items = try e.shape(x, loc, min: 2, max: 2, usage: "(test-error expression)")
            let form = e.list(testHelper, e.list(e.sym.kQuote, items[1]), .false,
                              e.list(e.sym.kLambda, .null, items[1]),
                              e.interp.makeString(e.interp.sourceFiles.describe(loc) ?? "?"))
            return try e.expand(form, scope, loc)
        }
    }

    /// Records one test's outcome. `expected` is nil for `test-error`.
    fileprivate func check(_ interp: Interpreter, form: Value, expected: Value?, actual: Value,
                           location: String) {
        let text = interp.writeString(form)
        var outcome: Result<Value, OmegaError>
        do { outcome = .success(try interp.call(actual)) } catch let e as OmegaError {
            outcome = .failure(e)
        } catch {
            outcome = .failure(OmegaError(kind: .error, message: "\(error)", location: nil, backtrace: [], exitStatus: 0))
        }
        guard let expectedThunk = expected else {
            switch outcome {
            case .failure: passed += 1
            case .success(let v):
                failed += 1
                emit("\(location): FAIL \(text)\n  expected an error, got \(interp.writeString(v))")
            }
            return
        }
        let want: Value
        // The tested value is held here while the expected one is computed:
        // a root, or a collection there frees it (found under OMEGA_GC_STRESS).
        let held: Value = if case .success(let v) = outcome { v } else { .unspecified }
        do { want = try interp.keeping(held) { try interp.call(expectedThunk) } } catch {
            failed += 1
            emit("\(location): FAIL \(text)\n  the expected value raised an error: \(error)")
            return
        }
        switch outcome {
        case .success(let v) where Equality.equal(v, want):
            passed += 1
        case .success(let v):
            failed += 1
            emit("\(location): FAIL \(text)\n  expected: \(interp.writeString(want))\n  actual:   \(interp.writeString(v))")
        case .failure(let e):
            failed += 1
            emit("\(location): FAIL \(text)\n  expected: \(interp.writeString(want))\n  raised:   \(e.description)")
        }
    }
}

extension Interpreter {
    var expanderForExtensions: Expander { expander }

    /// The primitive `(test …)` expands into, bound to a runner.
    func builtinTestHelper(runner: SchemeTestRunner) -> Value {
        let p = Primitive(name: "%test", body: .variadic({ [unowned runner] interp, args in
            runner.check(interp, form: args[0], expected: args[1].isFalse ? nil : args[1],
                         actual: args[2], location: interp.string(args[3]) ?? "?")
            return .unspecified
        }), minArgs: 4, maxArgs: 4)
        let v = Value(object: heap.register(p))
        keepAlive(v)
        return v
    }
}
