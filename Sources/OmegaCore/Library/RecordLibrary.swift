/// Record types (`define-record-type`, R7RS 5.5). The macro in
/// stdlib/20-data.scm expands into these primitives, which make the
/// constructor, predicate, accessors and modifiers as native procedures.
final class RecordType: HeapObject, CustomPrintable {
    let name: String
    let fields: [Symbol]
    init(name: String, fields: [Symbol]) {
        self.name = name
        self.fields = fields
        super.init(kind: .recordType)
    }
    func printedForm(_ interp: Interpreter) -> String { "#<record-type \(name)>" }
}

final class Record: HeapObject, CustomPrintable {
    let type: RecordType
    var fields: [Value]
    init(type: RecordType, fields: [Value]) {
        self.type = type
        self.fields = fields
        super.init(kind: .record)
    }
    override func trace(_ marker: inout Marker) {
        marker.mark(object: type)
        for k in 0..<fields.count { marker.mark(fields[k]) }
    }
    override var approximateSize: Int { 48 + fields.count * 8 }
    func printedForm(_ interp: Interpreter) -> String {
        var s = "#<\(type.name)"
        for (f, v) in zip(type.fields, fields) { s += " \(f.name)=\(interp.writeString(v))" }
        return s + ">"
    }
}

enum RecordLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        i.define("%make-record-type") { i, name, fields in
            let n = name.as(Symbol.self)?.name ?? i.displayString(name)
            let fs = try Check.list(fields, 2).map { try Check.symbol($0, 2) }
            return Value(object: i.heap.register(RecordType(name: n, fields: fs)))
        }
        i.define("%record-constructor") { i, t, fieldNames in
            let type = try recordType(t)
            let names = try Check.list(fieldNames, 2).map { try Check.symbol($0, 2) }
            let indices = try names.map { n -> Int in
                guard let k = type.fields.firstIndex(where: { $0 === n }) else {
                    throw SchemeError(.syntax, "define-record-type \(type.name): \(n.name) is not a field")
                }
                return k
            }
            let count = type.fields.count
            let p = Primitive(name: "make-\(type.name)", body: .variadic({ i, args in
                var fields = [Value](repeating: .false, count: count)
                for (a, k) in indices.enumerated() { fields[k] = args[a] }
                return Value(object: i.heap.register(Record(type: type, fields: fields)))
            }), minArgs: indices.count, maxArgs: indices.count)
            return Value(object: i.heap.register(p))
        }
        i.define("%record-predicate") { i, t in
            let type = try recordType(t)
            return i.native("\(type.name)?") { _, x in
                Value(x.isObject(of: .record) && x.withObject { unsafeDowncast($0, to: Record.self).type === type })
            }
        }
        i.define("%record-accessor") { i, t, field in
            let type = try recordType(t)
            let k = try fieldIndex(type, field)
            let name = "\(type.name)-\(type.fields[k].name)"
            return i.native(name) { _, x in try withRecord(x, of: type) { $0.fields[k] } }
        }
        i.define("%record-modifier") { i, t, field in
            let type = try recordType(t)
            let k = try fieldIndex(type, field)
            let name = "set-\(type.name)-\(type.fields[k].name)!"
            let p = Primitive(name: name, body: .fixed2({ _, x, v in
                try withRecord(x, of: type) { $0.fields[k] = v }
                return .unspecified
            }), minArgs: 2, maxArgs: 2)
            return Value(object: i.heap.register(p))
        }
        i.define("record?") { _, x in Value(x.isObject(of: .record)) }
    }

    /// Runs `body` on `x` when it is a record of `type`, borrowing it (no
    /// dynamic cast or reference counting on the accessors' path).
    @inline(__always)
    private static func withRecord<R>(_ x: Value, of type: RecordType, _ body: (Record) -> R) throws -> R {
        if x.isObject(of: .record) {
            let answer: R? = x.withObject { object in
                let r = unsafeDowncast(object, to: Record.self)
                return r.type === type ? body(r) : nil
            }
            if let answer { return answer }
        }
        throw SchemeError.wrongType(x, expected: "a record of type \(type.name)")
    }

    private static func recordType(_ v: Value) throws -> RecordType {
        guard let t = v.as(RecordType.self) else { throw SchemeError.wrongType(v, expected: "a record type") }
        return t
    }

    private static func fieldIndex(_ type: RecordType, _ field: Value) throws -> Int {
        let f = try Check.symbol(field, 2)
        guard let k = type.fields.firstIndex(where: { $0 === f }) else {
            throw SchemeError(.syntax, "define-record-type \(type.name): \(f.name) is not a field")
        }
        return k
    }
}

extension Interpreter {
    /// A one-argument native procedure value (not bound to a global).
    func native(_ name: String, _ f: @escaping (Interpreter, Value) throws -> Value) -> Value {
        Value(object: heap.register(Primitive(name: name, body: .fixed1(f), minArgs: 1, maxArgs: 1)))
    }
}
