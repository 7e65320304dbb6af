/// Compiled code for one `lambda` (or one top-level form): bytecode, its
/// constants, and what the VM needs to set up a frame for it.
///
/// Instructions are 32-bit words: the low 8 bits are the opcode (`Opcode`),
/// the high 24 bits its first operand; some instructions take further
/// operand words. The code and constants live in buffers that never move,
/// so the VM can run on raw pointers into them.
final class Template: HeapObject {
    let code: UnsafeMutablePointer<UInt32>
    let codeCount: Int
    let constants: UnsafeMutablePointer<Value>
    let constantCount: Int
    /// Parameters without the rest parameter.
    let requiredCount: Int
    let hasRest: Bool
    /// Slots the frame needs above its arguments' base: parameters, the rest
    /// list and `let`-bound locals.
    let frameSize: Int
    /// The deepest the temporaries above the frame can get.
    let maxStack: Int
    /// The procedure's name for messages and backtraces ("" when anonymous).
    let name: String
    /// Source location of each call or checked instruction, by code offset
    /// (sorted by offset).
    let locations: [(offset: Int32, location: SourceLocation)]
    /// Where the lambda itself was written.
    let location: SourceLocation

    init(code: [UInt32], constants: [Value], requiredCount: Int, hasRest: Bool,
         frameSize: Int, maxStack: Int, name: String,
         locations: [(offset: Int32, location: SourceLocation)], location: SourceLocation) {
        self.code = .allocate(capacity: max(code.count, 1))
        self.code.initialize(from: code, count: code.count)
        codeCount = code.count
        self.constants = .allocate(capacity: max(constants.count, 1))
        self.constants.initialize(from: constants, count: constants.count)
        constantCount = constants.count
        self.requiredCount = requiredCount
        self.hasRest = hasRest
        self.frameSize = frameSize
        self.maxStack = maxStack
        self.name = name
        self.locations = locations
        self.location = location
        super.init(kind: .template)
    }

    deinit {
        code.deallocate()
        constants.deallocate()
    }

    override func trace(_ marker: inout Marker) {
        for i in 0..<constantCount { marker.mark(constants[i]) }
    }
    override var approximateSize: Int { 128 + codeCount * 4 + constantCount * 8 }

    /// The source location recorded for the instruction at `offset`.
    func location(at offset: Int) -> SourceLocation {
        var best = SourceLocation.none
        for entry in locations where Int(entry.offset) <= offset { best = entry.location }
        return best
    }
}

/// A procedure made by `lambda`: code plus the values of its free variables
/// (flat closure: free variables are copied in when the closure is made;
/// assigned ones are shared through `Box`es).
package final class Closure: HeapObject {
    let template: Template
    let free: UnsafeMutablePointer<Value>
    let freeCount: Int
    // Copies of the template's fields the VM reads on every call, so that a
    // call touches only this object.
    let code: UnsafeMutablePointer<UInt32>
    let constants: UnsafeMutablePointer<Value>
    package let requiredCount: Int
    package let hasRest: Bool
    let frameSize: Int
    /// Stack slots the frame may need above fp.
    let stackNeed: Int

    init(template: Template, freeCount: Int) {
        self.template = template
        self.freeCount = freeCount
        code = template.code
        constants = template.constants
        requiredCount = template.requiredCount
        hasRest = template.hasRest
        frameSize = template.frameSize
        stackNeed = template.frameSize + template.maxStack + 4
        free = .allocate(capacity: max(freeCount, 1))
        free.initialize(repeating: .unspecified, count: max(freeCount, 1))
        super.init(kind: .closure)
    }

    deinit { free.deallocate() }

    override func trace(_ marker: inout Marker) {
        marker.mark(object: template)
        for i in 0..<freeCount { marker.mark(free[i]) }
    }
    override var approximateSize: Int { 64 + freeCount * 8 }
}

/// The arguments of a variadic primitive: a view of the VM stack, valid only
/// during the call.
public struct Arguments {
    let base: UnsafeMutablePointer<Value>
    /// How many arguments were passed.
    public let count: Int

    /// The argument at `i` (0-based; `i` must be below `count`).
    @inline(__always) public subscript(i: Int) -> Value { base[i] }
    /// The argument at `i`, or nil when fewer were passed.
    public func optional(_ i: Int) -> Value? { i < count ? base[i] : nil }
    /// The arguments as an array.
    public var array: [Value] { Array(UnsafeBufferPointer(start: base, count: count)) }
}

/// A procedure written in Swift. The arity-specialised cases let the VM call
/// `car` or `+` without building an argument array.
enum PrimitiveBody {
    case fixed0((Interpreter) throws -> Value)
    case fixed1((Interpreter, Value) throws -> Value)
    case fixed2((Interpreter, Value, Value) throws -> Value)
    case fixed3((Interpreter, Value, Value, Value) throws -> Value)
    /// Any count within the primitive's arity range.
    case variadic((Interpreter, Arguments) throws -> Value)
    /// Procedures that take over the machine (apply, call/cc, values, …):
    /// the VM implements them itself.
    case control(ControlPrimitive)
}

/// The primitives the VM implements directly because they manipulate the
/// machine state rather than compute a value.
enum ControlPrimitive {
    case apply
    /// `(%call/cc proc)`: calls proc with the raw continuation of the call.
    case callcc
}

/// A procedure written in Swift (a built-in, or one a host defined).
public final class Primitive: HeapObject {
    /// The name it was defined under.
    public let name: String
    let body: PrimitiveBody
    package let minArgs: Int
    /// -1 means any number.
    package let maxArgs: Int

    init(name: String, body: PrimitiveBody, minArgs: Int, maxArgs: Int) {
        self.name = name
        self.body = body
        self.minArgs = minArgs
        self.maxArgs = maxArgs
        super.init(kind: .primitive)
    }

    /// A human description of the accepted argument counts.
    var arityDescription: String {
        if maxArgs == minArgs { return "\(minArgs)" }
        if maxArgs < 0 { return "at least \(minArgs)" }
        return "\(minArgs) to \(maxArgs)"
    }
}
