import Foundation

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

final class BinaryOutputPort: HeapObject, CustomPrintable, FlushablePort {
    var bytes: [UInt8] = []
    var isOpen = true
    /// A file port's destination: `bytes` is its buffer, handed over when
    /// it fills, on `flush-output-port` and on close. Nil for a bytevector port.
    private let sink: (([UInt8]) -> Void)?
    private let name: String
    var onClose: (() -> Void)?

    init(sink: (([UInt8]) -> Void)? = nil, name: String = "bytevector") {
        self.sink = sink
        self.name = name
        super.init(kind: .port)
    }
    override var approximateSize: Int { 64 + bytes.count }
    func printedForm(_ interp: Interpreter) -> String {
        sink == nil ? "#<binary-output-port>" : "#<binary-output-port \(name)>"
    }

    var isBytevectorPort: Bool { sink == nil }

    func append<C: Collection>(_ more: C) where C.Element == UInt8 {
        bytes.append(contentsOf: more)
        if sink != nil && bytes.count >= 8192 { flush() }
    }

    func flush() {
        guard let sink, !bytes.isEmpty else { return }
        sink(bytes)
        bytes.removeAll(keepingCapacity: true)
    }

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
        i.define("open-binary-input-file") { i, path in
            try i.require(.fileRead, "open-binary-input-file")
            let p = try Check.string(path).string
            guard let data = FileManager.default.contents(atPath: p) else {
                throw SchemeError(.file, "cannot open \(p): " + (FileManager.default.fileExists(atPath: p) ? "not readable" : "no such file"))
            }
            try i.heap.reserve(data.count, for: "open-binary-input-file of \(data.count) bytes")
            return Value(object: i.heap.register(BinaryInputPort([UInt8](data))))
        }
        i.define("open-binary-output-file") { i, path in
            try i.require(.fileWrite, "open-binary-output-file")
            let p = try Check.string(path).string
            return try i.openFileForWriting(p) { handle in BinaryOutputPort(sink: { handle.write(Data($0)) }, name: p) }
        }
        i.define("get-output-bytevector") { i, p in
            guard let port = p.as(BinaryOutputPort.self), port.isBytevectorPort else {
                throw SchemeError.wrongType(p, expected: "a bytevector output port")
            }
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
        i.define("read-bytevector!", min: 1, max: 4) { _, args in
            let b = try bytevector(args[0], 1)
            let p = try input(args, 1)
            let span = try Check.span(args, at: 2, count: b.bytes.count)
            if span.isEmpty { return Value(fixnum: 0) }
            guard p.position < p.bytes.count else { return .eof }
            let n = min(span.count, p.bytes.count - p.position)
            b.bytes.replaceSubrange(span.lowerBound..<span.lowerBound + n, with: p.bytes[p.position..<p.position + n])
            p.position += n
            return Value(fixnum: n)
        }
        i.define("write-u8", min: 1, max: 2) { _, args in
            let v = args[0]
            guard v.isFixnum, v.fixnum >= 0, v.fixnum <= 255 else { throw SchemeError.wrongType(v, expected: "a byte (0 to 255)", argument: 1) }
            try output(args, 1).append(CollectionOfOne(UInt8(v.fixnum)))
            return .unspecified
        }
        i.define("write-bytevector", min: 1, max: 4) { _, args in
            let b = try bytevector(args[0], 1)
            let p = try output(args, 1)
            p.append(b.bytes[try Check.span(args, at: 2, count: b.bytes.count)])
            return .unspecified
        }
    }
}
