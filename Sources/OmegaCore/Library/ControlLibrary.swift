/// Procedures, multiple values, errors and evaluation (R7RS 6.10, 6.11, 6.12).
enum ControlLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        i.define("procedure?") { _, x in Value(x.isProcedure) }
        i.definePrimitive("apply", 1, -1, .control(.apply))
        i.define("values", min: 0, max: nil) { i, args in
            if args.count == 1 { return args[0] }
            return Value(object: i.heap.register(MultipleValues(args.array)))
        }
        // Used by call-with-values in stdlib/.
        i.define("%multiple-values?") { _, x in Value(x.isObject(of: .values)) }
        i.define("%values->list") { i, x in
            if let mv = x.as(MultipleValues.self) { return i.list(mv.items) }
            return i.list([x])
        }
        i.define("error", min: 0, max: nil) { i, args in
            guard args.count > 0 else { throw SchemeError(.error, "error called with no message") }
            var message: String
            var rest = Array(args.array.dropFirst())
            if let s = args[0].as(SchemeString.self) {
                message = s.string
            } else if let who = args[0].as(Symbol.self), let s = rest.first?.as(SchemeString.self) {
                // (error 'who "message" irritant …), a common older style.
                message = "\(who.name): \(s.string)"
                rest.removeFirst()
            } else {
                message = i.displayString(args[0])
            }
            var e = SchemeError(.error, message, irritants: rest)
            e.procedure = ""
            throw e
        }
        // Whether a procedure accepts n arguments (for case-lambda).
        i.define("%arity-accepts?") { _, f, n in
            let count = try Check.int(n, 2)
            if let c = f.as(Closure.self) {
                return Value(c.hasRest ? count >= c.requiredCount : count == c.requiredCount)
            }
            if let p = f.as(Primitive.self) {
                return Value(count >= p.minArgs && (p.maxArgs < 0 || count <= p.maxArgs))
            }
            return Value(f.isProcedure)
        }
    }
}

/// display, write, newline and the current output port (R7RS 6.13).
enum OutputLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        func port(_ args: Arguments, _ index: Int, _ i: Interpreter) throws -> OutputPort {
            guard let p = args.optional(index) else { return i.currentOutput }
            guard let port = p.as(OutputPort.self) else {
                throw SchemeError.wrongType(p, expected: "an output port", argument: index + 1)
            }
            guard port.isOpen else { throw SchemeError(.error, "port is closed: ", irritants: [p]) }
            return port
        }
        i.define("display", min: 1, max: 2) { i, args in
            try port(args, 1, i).write(i.printed(args[0], display: true, sharing: .cycles))
            return .unspecified
        }
        i.define("write", min: 1, max: 2) { i, args in
            try port(args, 1, i).write(i.printed(args[0], display: false, sharing: .cycles))
            return .unspecified
        }
        i.define("write-shared", min: 1, max: 2) { i, args in
            try port(args, 1, i).write(i.printed(args[0], display: false, sharing: .all))
            return .unspecified
        }
        i.define("write-simple", min: 1, max: 2) { i, args in
            try port(args, 1, i).write(i.printed(args[0], display: false, sharing: .none))
            return .unspecified
        }
        i.define("newline", min: 0, max: 1) { i, args in
            try port(args, 0, i).write("\n")
            return .unspecified
        }
        i.define("write-string", min: 1, max: 4) { i, args in
            let s = try Check.string(args[0])
            let out = try port(args, 1, i)
            if args.count <= 2 { out.write(s.string); return .unspecified }
            var piece = String.UnicodeScalarView()
            piece.append(contentsOf: s.scalars[try Check.span(args, at: 2, count: s.scalars.count)])
            out.write(String(piece))
            return .unspecified
        }
        i.define("write-char", min: 1, max: 2) { i, args in
            try port(args, 1, i).write(String(Character(try Check.char(args[0]))))
            return .unspecified
        }
        // current-output-port and current-error-port are parameters (stdlib/20-syntax.scm) over these.
        i.define("%current-output") { i in Value(object: i.currentOutput) }
        i.define("%set-current-output!") { i, p in
            guard let port = p.as(OutputPort.self) else { throw SchemeError.wrongType(p, expected: "an output port") }
            i.currentOutput = port
            return .unspecified
        }
        i.define("%current-error") { i in Value(object: i.currentError) }
        i.define("%set-current-error!") { i, p in
            guard let port = p.as(OutputPort.self) else { throw SchemeError.wrongType(p, expected: "an output port") }
            i.currentError = port
            return .unspecified
        }
        i.define("flush-output-port", min: 0, max: 1) { i, args in
            if let b = args.optional(0)?.as(BinaryOutputPort.self) {
                guard b.isOpen else { throw SchemeError(.error, "port is closed: ", irritants: [args[0]]) }
                b.flush()
                return .unspecified
            }
            try port(args, 0, i).flush()
            return .unspecified
        }
        i.define("output-port?") { _, x in Value(x.as(OutputPort.self) != nil || x.as(BinaryOutputPort.self) != nil) }
        i.define("open-output-string") { i in
            let port = OutputPort(target: .string)
            // A string port that keeps growing is memory like any other: counted, and limited.
            port.onGrow = { [unowned heap = i.heap] n in heap.grew(by: n) }
            return Value(object: i.heap.register(port))
        }
        i.define("get-output-string") { i, p in
            guard let port = p.as(OutputPort.self), case .string = port.target else {
                throw SchemeError.wrongType(p, expected: "a string output port")
            }
            return i.makeString(port.contents)
        }
    }
}
