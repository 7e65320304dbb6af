/// A group of built-in procedures written in Swift. Each library registers
/// its procedures with the arity-specialised `define` helpers below, so the VM
/// calls them without an argument array.
package protocol NativeLibrary {
    static func register(in interp: Interpreter)
}

/// Every library of the engine's own, which every interpreter starts with.
enum BaseLibrary {
    static var libraries: [NativeLibrary.Type] { [
        NumberLibrary.self, ListLibrary.self, CharacterLibrary.self, StringLibrary.self,
        SymbolLibrary.self, VectorLibrary.self, EqualityLibrary.self, ControlLibrary.self,
        OutputLibrary.self, SystemLibrary.self, ExceptionLibrary.self, RecordLibrary.self,
        InputLibrary.self, CollectionLibrary.self, BinaryPortLibrary.self, EnvironmentLibrary.self,
    ] }

    static func register(in interp: Interpreter) {
        for lib in libraries { lib.register(in: interp) }
    }
}

extension Interpreter {
    // Registration helpers for built-ins (internal) …

    package func define(_ name: String, _ f: @escaping (Interpreter) throws -> Value) {
        definePrimitive(name, 0, 0, .fixed0(f))
    }
    package func define(_ name: String, _ f: @escaping (Interpreter, Value) throws -> Value) {
        definePrimitive(name, 1, 1, .fixed1(f))
    }
    package func define(_ name: String, _ f: @escaping (Interpreter, Value, Value) throws -> Value) {
        definePrimitive(name, 2, 2, .fixed2(f))
    }
    package func define(_ name: String, _ f: @escaping (Interpreter, Value, Value, Value) throws -> Value) {
        definePrimitive(name, 3, 3, .fixed3(f))
    }
    /// A procedure taking `min` to `max` arguments (`max` nil: any number).
    package func define(_ name: String, min: Int, max: Int?, _ f: @escaping (Interpreter, Arguments) throws -> Value) {
        definePrimitive(name, min, max ?? -1, .variadic(f))
    }

    // … and the public ones for hosts.

    /// Defines a global procedure of no arguments written in Swift.
    public func defineProcedure(_ name: String, _ f: @escaping (Interpreter) throws -> Value) { define(name, f) }
    /// Defines a global procedure of one argument written in Swift.
    public func defineProcedure(_ name: String, _ f: @escaping (Interpreter, Value) throws -> Value) { define(name, f) }
    /// Defines a global procedure of two arguments written in Swift.
    public func defineProcedure(_ name: String, _ f: @escaping (Interpreter, Value, Value) throws -> Value) { define(name, f) }
    /// Defines a global procedure of three arguments written in Swift.
    public func defineProcedure(_ name: String, _ f: @escaping (Interpreter, Value, Value, Value) throws -> Value) { define(name, f) }
    /// Defines a global procedure taking `min`…`max` arguments (nil: no maximum).
    public func defineProcedure(_ name: String, minArguments: Int, maxArguments: Int?,
                                _ f: @escaping (Interpreter, Arguments) throws -> Value) {
        define(name, min: minArguments, max: maxArguments, f)
    }

    /// An error for a host procedure to throw: the script sees an error object
    /// with this message and irritants, located at the call.
    public func error(_ message: String, irritants: [Value] = []) -> Error {
        SchemeError(.error, message, irritants: irritants)
    }
}

// MARK: Argument checking

/// Checks for primitives: each throws a type error naming the argument.
package enum Check {
    static func pair(_ v: Value, _ arg: Int = 1) throws -> Pair {
        guard v.isPair else { throw SchemeError.wrongType(v, expected: "a pair", argument: arg) }
        return v.pair
    }

    static func string(_ v: Value, _ arg: Int = 1) throws -> SchemeString {
        guard let s = v.as(SchemeString.self) else { throw SchemeError.wrongType(v, expected: "a string", argument: arg) }
        return s
    }

    package static func symbol(_ v: Value, _ arg: Int = 1) throws -> Symbol {
        guard let s = v.as(Symbol.self) else { throw SchemeError.wrongType(v, expected: "a symbol", argument: arg) }
        return s
    }

    static func vector(_ v: Value, _ arg: Int = 1) throws -> SchemeVector {
        guard let s = v.as(SchemeVector.self) else { throw SchemeError.wrongType(v, expected: "a vector", argument: arg) }
        return s
    }

    static func char(_ v: Value, _ arg: Int = 1) throws -> Unicode.Scalar {
        guard v.isChar else { throw SchemeError.wrongType(v, expected: "a character", argument: arg) }
        return v.char
    }

    package static func number(_ v: Value, _ arg: Int = 1) throws -> Num {
        guard let n = Num(v) else {
            throw SchemeError.wrongType(v, expected: v.isObject(of: .compnum) ? "a real number" : "a number", argument: arg)
        }
        return n
    }

    static func integer(_ v: Value, _ arg: Int = 1) throws -> Num {
        guard let n = Num(v), n.isInteger else { throw SchemeError.wrongType(v, expected: "an integer", argument: arg) }
        return n
    }

    /// An exact integer that fits an `Int` (indices, counts).
    package static func int(_ v: Value, _ arg: Int = 1) throws -> Int {
        if v.isFixnum { return v.fixnum }
        throw SchemeError.wrongType(v, expected: "an exact integer", argument: arg)
    }

    /// An index from 0 to `count - 1`.
    static func index(_ v: Value, _ count: Int, _ arg: Int = 2) throws -> Int {
        let i = try int(v, arg)
        guard i >= 0 && i < count else {
            let range = count == 0 ? "there are no elements" : "0 to \(count - 1)"
            throw SchemeError(.range, "argument \(arg): index out of range (\(range)), got ", irritants: [v])
        }
        return i
    }

    /// A position from 0 to `count` (for substring ends).
    static func position(_ v: Value, _ count: Int, _ arg: Int) throws -> Int {
        let i = try int(v, arg)
        guard i >= 0 && i <= count else {
            throw SchemeError(.range, "argument \(arg): position out of range (0 to \(count)), got ", irritants: [v])
        }
        return i
    }

    /// The optional `[start [end]]` arguments at `index` and `index + 1`
    /// over a sequence of `count` elements, as a range.
    static func span(_ args: Arguments, at index: Int, count: Int) throws -> Range<Int> {
        let start = try args.optional(index).map { try position($0, count, index + 1) } ?? 0
        let end = try args.optional(index + 1).map { try position($0, count, index + 2) } ?? count
        guard start <= end else { throw SchemeError(.range, "start \(start) is after end \(end)") }
        return start..<end
    }

    static func procedure(_ v: Value, _ arg: Int = 1) throws -> Value {
        guard v.isProcedure else { throw SchemeError.wrongType(v, expected: "a procedure", argument: arg) }
        return v
    }

    package static func list(_ v: Value, _ arg: Int = 1) throws -> [Value] {
        guard let items = listToArray(v) else { throw SchemeError.wrongType(v, expected: "a proper list", argument: arg) }
        return items
    }
}
