/// Bytevector ports (R7RS 6.13.1): binary input from a bytevector, binary
/// output accumulated into one.
final class BinaryInputPort: HeapObject, CustomPrintable {
    let bytes: [UInt8]
    var position = 0
    var isOpen = true
    init(_ bytes: [UInt8]) { self.bytes = bytes; super.init(kind: .port) }
    override var approximateSize: Int { 64 + bytes.count }
    func printedForm(_ interp: Interpreter) -> String { "#<binary-input-port>" }
}

final class BinaryOutputPort: HeapObject, CustomPrintable {
    var bytes: [UInt8] = []
    var isOpen = true
    init() { super.init(kind: .port) }
    override var approximateSize: Int { 64 + bytes.count }
    func printedForm(_ interp: Interpreter) -> String { "#<binary-output-port>" }
}

enum BinaryPortLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        func input(_ args: Arguments, _ k: Int) throws -> BinaryInputPort {
            guard let v = args.optional(k) else {
                throw SchemeError(.error, "the current input port is textual; pass a binary input port")
            }
            guard let p = v.as(BinaryInputPort.self) else {
                throw SchemeError.wrongType(v, expected: "a binary input port", argument: k + 1)
            }
            guard p.isOpen else { throw SchemeError(.error, "port is closed: ", irritants: [v]) }
            return p
        }
        func output(_ args: Arguments, _ k: Int) throws -> BinaryOutputPort {
            guard let v = args.optional(k) else {
                throw SchemeError(.error, "the current output port is textual; pass a binary output port")
            }
            guard let p = v.as(BinaryOutputPort.self) else {
                throw SchemeError.wrongType(v, expected: "a binary output port", argument: k + 1)
            }
            guard p.isOpen else { throw SchemeError(.error, "port is closed: ", irritants: [v]) }
            return p
        }
        func bytevector(_ v: Value, _ arg: Int) throws -> Bytevector {
            guard let b = v.as(Bytevector.self) else { throw SchemeError.wrongType(v, expected: "a bytevector", argument: arg) }
            return b
        }
        i.define("open-input-bytevector") { i, b in
            Value(object: i.heap.register(BinaryInputPort(try bytevector(b, 1).bytes)))
        }
        i.define("open-output-bytevector") { i in Value(object: i.heap.register(BinaryOutputPort())) }
        i.define("get-output-bytevector") { i, p in
            guard let port = p.as(BinaryOutputPort.self) else { throw SchemeError.wrongType(p, expected: "a bytevector output port") }
            return Value(object: i.heap.register(Bytevector(port.bytes)))
        }
        i.define("binary-port?") { _, x in Value(x.as(BinaryInputPort.self) != nil || x.as(BinaryOutputPort.self) != nil) }
        i.define("read-u8", min: 0, max: 1) { _, args in
            let p = try input(args, 0)
            guard p.position < p.bytes.count else { return .eof }
            p.position += 1
            return Value(fixnum: Int(p.bytes[p.position - 1]))
        }
        i.define("peek-u8", min: 0, max: 1) { _, args in
            let p = try input(args, 0)
            guard p.position < p.bytes.count else { return .eof }
            return Value(fixnum: Int(p.bytes[p.position]))
        }
        i.define("u8-ready?", min: 0, max: 1) { _, args in
            _ = try input(args, 0)
            return .true
        }
        i.define("read-bytevector", min: 1, max: 2) { i, args in
            let k = try Check.int(args[0], 1)
            let p = try input(args, 1)
            guard p.position < p.bytes.count else { return .eof }
            let end = min(p.bytes.count, p.position + max(k, 0))
            let chunk = Array(p.bytes[p.position..<end])
            p.position = end
            return Value(object: i.heap.register(Bytevector(chunk)))
        }
        i.define("write-u8", min: 1, max: 2) { _, args in
            let v = args[0]
            guard v.isFixnum, v.fixnum >= 0, v.fixnum <= 255 else { throw SchemeError.wrongType(v, expected: "a byte (0 to 255)", argument: 1) }
            try output(args, 1).bytes.append(UInt8(v.fixnum))
            return .unspecified
        }
        i.define("write-bytevector", min: 1, max: 4) { _, args in
            let b = try bytevector(args[0], 1)
            let p = try output(args, 1)
            p.bytes.append(contentsOf: b.bytes[try Check.span(args, at: 2, count: b.bytes.count)])
            return .unspecified
        }
    }
}
