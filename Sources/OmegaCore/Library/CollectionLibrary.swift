/// Hash tables (SRFI 69 names), bytevectors and string/vector conversions.
/// The hash-table procedures that take procedures are in stdlib/30-lists.scm.

/// A Scheme hash table. Keys compare by `eq?`, `eqv?`, `equal?` or
/// `string=?`; objects never move, so identity hashes are stable.
final class HashTable: HeapObject, CustomPrintable {
    enum Equivalence { case eq, eqv, equal, string }

    struct Key: Hashable {
        let value: Value
        let mode: Equivalence

        static func == (a: Key, b: Key) -> Bool {
            switch a.mode {
            case .eq: return a.value.raw == b.value.raw
            case .eqv: return Equality.eqv(a.value, b.value)
            case .equal, .string: return Equality.equal(a.value, b.value)
            }
        }

        func hash(into h: inout Hasher) { HashTable.hash(value, mode, depth: 0, into: &h) }
    }

    let mode: Equivalence
    var entries: [Key: (key: Value, value: Value)] = [:]

    init(mode: Equivalence) {
        self.mode = mode
        super.init(kind: .hashTable)
    }

    override func trace(_ marker: inout Marker) {
        for e in entries.values { marker.mark(e.key); marker.mark(e.value) }
    }
    override var approximateSize: Int { 64 + entries.count * 48 }

    static func hash(_ v: Value, _ mode: Equivalence, depth: Int, into h: inout Hasher) {
        if mode == .eq || v.isFixnum || v.isChar || !v.isHeapObject { h.combine(v.raw); return }
        if v.isPair {
            guard mode == .equal, depth < 4 else { h.combine(mode == .equal ? 1 : v.raw); return }
            hash(v.car, mode, depth: depth + 1, into: &h)
            hash(v.cdr, mode, depth: depth + 1, into: &h)
            return
        }
        switch v.kind {
        case .flonum?: h.combine(v.unsafeObject(Flonum.self).value)
        case .bignum?: h.combine(v.unsafeObject(Bignum.self).value)
        case .ratnum?:
            let r = v.unsafeObject(Ratnum.self)
            h.combine(r.numerator); h.combine(r.denominator)
        case .compnum?:
            // Its written form: equal exactly when eqv? is (exactness, -0.0 included).
            let c = v.unsafeObject(Compnum.self)
            h.combine(NumberSyntax.format(Complex(c.real, c.imag)))
        case .string? where mode != .eqv:
            for c in v.unsafeObject(SchemeString.self).scalars { h.combine(c.value) }
        case .vector? where mode == .equal:
            let items = v.unsafeObject(SchemeVector.self).items
            h.combine(items.count)
            if depth < 4 { for x in items.prefix(8) { hash(x, mode, depth: depth + 1, into: &h) } }
        case .bytevector? where mode == .equal:
            h.combine(v.unsafeObject(Bytevector.self).bytes)
        default:
            h.combine(v.raw)
        }
    }

    func printedForm(_ interp: Interpreter) -> String { "#<hash-table \(entries.count)>" }
}

enum CollectionLibrary: NativeLibrary {
    static func table(_ v: Value) throws -> HashTable {
        guard let t = v.as(HashTable.self) else { throw SchemeError.wrongType(v, expected: "a hash table") }
        return t
    }

    static func register(in i: Interpreter) {
        i.define("%make-hash-table") { i, m in
            let mode: HashTable.Equivalence
            switch (m.as(Symbol.self))?.name {
            case "eq": mode = .eq
            case "eqv": mode = .eqv
            case "string": mode = .string
            default: mode = .equal
            }
            return Value(object: i.heap.register(HashTable(mode: mode)))
        }
        i.define("hash-table?") { _, x in Value(x.isObject(of: .hashTable)) }
        i.define("%hash-table-ref") { _, t, k, missing in
            let tab = try table(t)
            return tab.entries[HashTable.Key(value: k, mode: tab.mode)]?.value ?? missing
        }
        i.define("hash-table-set!") { i, t, k, v in
            let tab = try table(t)
            tab.entries[HashTable.Key(value: k, mode: tab.mode)] = (k, v)
            i.heap.grew(by: 48)
            return .unspecified
        }
        i.define("hash-table-delete!") { _, t, k in
            let tab = try table(t)
            tab.entries[HashTable.Key(value: k, mode: tab.mode)] = nil
            return .unspecified
        }
        i.define("hash-table-contains?") { _, t, k in
            let tab = try table(t)
            return Value(tab.entries[HashTable.Key(value: k, mode: tab.mode)] != nil)
        }
        i.define("hash-table-count") { _, t in Value(fixnum: try table(t).entries.count) }
        i.define("hash-table-size") { _, t in Value(fixnum: try table(t).entries.count) }
        i.define("hash-table-keys") { i, t in i.list(try table(t).entries.values.map { $0.key }) }
        i.define("hash-table-values") { i, t in i.list(try table(t).entries.values.map { $0.value }) }
        i.define("hash-table->alist") { i, t in
            i.list(try table(t).entries.values.map { i.cons($0.key, $0.value) })
        }
        i.define("hash-table-clear!") { _, t in try table(t).entries.removeAll(); return .unspecified }
        i.define("hash-table-copy", min: 1, max: 2) { i, args in
            let tab = try table(args[0])
            let copy = HashTable(mode: tab.mode)
            copy.entries = tab.entries
            return Value(object: i.heap.register(copy))
        }

        // Bytevectors (R7RS 6.9)
        func bytes(_ v: Value, _ arg: Int = 1) throws -> Bytevector {
            guard let b = v.as(Bytevector.self) else { throw SchemeError.wrongType(v, expected: "a bytevector", argument: arg) }
            return b
        }
        func byte(_ v: Value, _ arg: Int) throws -> UInt8 {
            guard v.isFixnum, v.fixnum >= 0, v.fixnum <= 255 else { throw SchemeError.wrongType(v, expected: "a byte (0 to 255)", argument: arg) }
            return UInt8(v.fixnum)
        }
        i.define("bytevector?") { _, x in Value(x.isObject(of: .bytevector)) }
        i.define("make-bytevector", min: 1, max: 2) { i, args in
            let n = try Check.int(args[0], 1)
            guard n >= 0 else { throw SchemeError.wrongType(args[0], expected: "a non-negative length", argument: 1) }
            let fill = try args.optional(1).map { try byte($0, 2) } ?? 0
            try i.heap.reserve(Heap.bytes(n, each: 1), for: "make-bytevector of \(n) bytes")
            return Value(object: i.heap.register(Bytevector(Array(repeating: fill, count: n))))
        }
        i.define("bytevector", min: 0, max: nil) { i, args in
            var out: [UInt8] = []
            for k in 0..<args.count { out.append(try byte(args[k], k + 1)) }
            return Value(object: i.heap.register(Bytevector(out)))
        }
        i.define("bytevector-length") { _, b in Value(fixnum: try bytes(b).bytes.count) }
        i.define("bytevector-u8-ref") { _, b, k in
            let bv = try bytes(b)
            return Value(fixnum: Int(bv.bytes[try Check.index(k, bv.bytes.count)]))
        }
        i.define("bytevector-u8-set!") { _, b, k, v in
            let bv = try bytes(b)
            bv.bytes[try Check.index(k, bv.bytes.count)] = try byte(v, 3)
            return .unspecified
        }
        i.define("bytevector-copy", min: 1, max: 3) { i, args in
            let bv = try bytes(args[0])
            let r = try Check.span(args, at: 1, count: bv.bytes.count)
            return Value(object: i.heap.register(Bytevector(Array(bv.bytes[r]))))
        }
        i.define("bytevector-append", min: 0, max: nil) { i, args in
            var out: [UInt8] = []
            for k in 0..<args.count { out.append(contentsOf: try bytes(args[k], k + 1).bytes) }
            return Value(object: i.heap.register(Bytevector(out)))
        }
        i.define("utf8->string", min: 1, max: 3) { i, args in
            let bv = try bytes(args[0])
            let r = try Check.span(args, at: 1, count: bv.bytes.count)
            return i.makeString(String(decoding: bv.bytes[r], as: UTF8.self))
        }
        i.define("string->utf8", min: 1, max: 3) { i, args in
            let (s, start, end) = try StringLibrary.range(args, what: "string")
            var str = String.UnicodeScalarView()
            str.append(contentsOf: s.scalars[start..<end])
            return Value(object: i.heap.register(Bytevector(Array(String(str).utf8))))
        }

        // Conversions between strings and vectors, and copying into them.
        i.define("string->vector", min: 1, max: 3) { i, args in
            let (s, start, end) = try StringLibrary.range(args, what: "string")
            try i.heap.reserve(Heap.bytes(end - start, each: 8), for: "string->vector of \(end - start) characters")
            return i.makeVector(s.scalars[start..<end].map { Value(char: $0) })
        }
        i.define("vector->string", min: 1, max: 3) { i, args in
            let (v, start, end) = try VectorLibrary.range(args)
            var out: [Unicode.Scalar] = []
            for x in v.items[start..<end] {
                guard x.isChar else { throw SchemeError.wrongType(x, expected: "a vector of characters") }
                out.append(x.char)
            }
            return Value(object: i.heap.register(SchemeString(out)))
        }
        i.define("string-copy!", min: 3, max: 5) { _, args in
            let to = try Check.string(args[0], 1)
            guard to.isMutable else { throw SchemeError(.error, "cannot modify a literal string: ", irritants: [args[0]]) }
            let at = try Check.position(args[1], to.scalars.count, 2)
            let from = try Check.string(args[2], 3)
            let r = try Check.span(args, at: 3, count: from.scalars.count)
            guard at + r.count <= to.scalars.count else {
                throw SchemeError(.range, "string-copy!: the source does not fit at \(at)")
            }
            to.scalars.replaceSubrange(at..<at + r.count, with: from.scalars.sub(r))
            return .unspecified
        }
        i.define("vector-copy!", min: 3, max: 5) { _, args in
            let to = try Check.vector(args[0], 1)
            let at = try Check.position(args[1], to.items.count, 2)
            let from = try Check.vector(args[2], 3)
            let r = try Check.span(args, at: 3, count: from.items.count)
            guard at + r.count <= to.items.count else {
                throw SchemeError(.range, "vector-copy!: the source does not fit at \(at)")
            }
            let part = Array(from.items[r])
            to.items.replaceSubrange(at..<at + part.count, with: part)
            return .unspecified
        }
        i.define("bytevector-copy!", min: 3, max: 5) { _, args in
            let to = try bytes(args[0], 1)
            let at = try Check.position(args[1], to.bytes.count, 2)
            let from = try bytes(args[2], 3)
            let r = try Check.span(args, at: 3, count: from.bytes.count)
            guard at + r.count <= to.bytes.count else {
                throw SchemeError(.range, "bytevector-copy!: the source does not fit at \(at)")
            }
            let part = Array(from.bytes[r])
            to.bytes.replaceSubrange(at..<at + part.count, with: part)
            return .unspecified
        }
    }
}
