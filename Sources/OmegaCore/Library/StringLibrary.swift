/// Strings (R7RS 6.7), indexed by Unicode scalar.
enum StringLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        i.define("string?") { _, x in Value(x.isString) }
        i.define("make-string", min: 1, max: 2) { i, args in
            let n = try Check.int(args[0], 1)
            guard n >= 0 else { throw SchemeError.wrongType(args[0], expected: "a non-negative length", argument: 1) }
            let c = try args.optional(1).map { try Check.char($0, 2) } ?? " "
            let ascii = c.value < 0x80
            try i.heap.reserve(Heap.bytes(n, each: ascii ? 1 : 4), for: "make-string of \(n) characters")
            let storage = ascii ? StringStorage(ascii: Array(repeating: UInt8(truncatingIfNeeded: c.value), count: n))
                                : StringStorage(Array(repeating: c, count: n))
            return Value(object: i.heap.register(SchemeString(storage)))
        }
        i.define("string", min: 0, max: nil) { i, args in
            var out: [Unicode.Scalar] = []
            for k in 0..<args.count { out.append(try Check.char(args[k], k + 1)) }
            return Value(object: i.heap.register(SchemeString(out)))
        }
        i.define("string-length") { _, s in Value(fixnum: try Check.string(s).scalars.count) }
        i.define("string-ref") { _, s, k in
            let str = try Check.string(s)
            return Value(char: str.scalars[try Check.index(k, str.scalars.count)])
        }
        i.define("string-set!") { _, s, k, c in
            let str = try Check.string(s)
            guard str.isMutable else { throw SchemeError(.error, "cannot modify a literal string: ", irritants: [s]) }
            str.scalars[try Check.index(k, str.scalars.count)] = try Check.char(c, 3)
            return .unspecified
        }
        i.define("substring", min: 2, max: 3) { i, args in
            let (str, start, end) = try range(args, what: "string")
            return Value(object: i.heap.register(SchemeString(str.scalars.sub(start..<end))))
        }
        i.define("string-copy", min: 1, max: 3) { i, args in
            let (str, start, end) = try range(args, what: "string")
            return Value(object: i.heap.register(SchemeString(str.scalars.sub(start..<end))))
        }
        i.define("string-append", min: 0, max: nil) { i, args in
            var length = 0
            for k in 0..<args.count { length = length &+ (try Check.string(args[k], k + 1).scalars.count) }
            try i.heap.reserve(Heap.bytes(length, each: 4), for: "string-append of \(length) characters")
            var out = StringStorage()
            out.reserveCapacity(length)
            for k in 0..<args.count { out.append(contentsOf: try Check.string(args[k], k + 1).scalars) }
            return Value(object: i.heap.register(SchemeString(out)))
        }
        i.define("string->list", min: 1, max: 3) { i, args in
            let (str, start, end) = try range(args, what: "string")
            try i.heap.reserve(Heap.bytes(end - start, each: Pair.size), for: "string->list of \(end - start) characters")
            var r = Value.null
            for c in str.scalars[start..<end].reversed() { r = i.cons(Value(char: c), r) }
            return r
        }
        i.define("list->string") { i, l in
            let items = try Check.list(l)
            var out: [Unicode.Scalar] = []
            out.reserveCapacity(items.count)
            for v in items {
                guard v.isChar else { throw SchemeError.wrongType(l, expected: "a list of characters") }
                out.append(v.char)
            }
            return Value(object: i.heap.register(SchemeString(out)))
        }
        i.define("string-fill!", min: 2, max: 4) { _, args in
            let str = try Check.string(args[0], 1)
            guard str.isMutable else { throw SchemeError(.error, "cannot modify a literal string: ", irritants: [args[0]]) }
            let c = try Check.char(args[1], 2)
            let start = try args.optional(2).map { try Check.position($0, str.scalars.count, 3) } ?? 0
            let end = try args.optional(3).map { try Check.position($0, str.scalars.count, 4) } ?? str.scalars.count
            guard start <= end else { throw SchemeError(.range, "start \(start) is after end \(end)") }
            for k in start..<end { str.scalars[k] = c }
            return .unspecified
        }
        func compare(_ name: String, fold: Bool, _ ok: @escaping (StringStorage, StringStorage) -> Bool) {
            i.define(name, min: 1, max: nil) { _, args in
                var prev = try key(try Check.string(args[0], 1), fold)
                var result = true
                for k in 1..<args.count {
                    let s = try key(try Check.string(args[k], k + 1), fold)
                    if !ok(prev, s) { result = false }
                    prev = s
                }
                return Value(result)
            }
        }
        let less: (StringStorage, StringStorage) -> Bool = { a, b in
            // ASCII's byte order is its scalar order.
            if !a.isWide && !b.isWide { return a.ascii.lexicographicallyPrecedes(b.ascii) }
            return a.lexicographicallyPrecedes(b) { $0.value < $1.value }
        }
        compare("string=?", fold: false, ==)
        compare("string<?", fold: false, less)
        compare("string>?", fold: false) { less($1, $0) }
        compare("string<=?", fold: false) { !less($1, $0) }
        compare("string>=?", fold: false) { !less($0, $1) }
        compare("string-ci=?", fold: true, ==)
        compare("string-ci<?", fold: true, less)
        compare("string-ci>?", fold: true) { less($1, $0) }
        compare("string-ci<=?", fold: true) { !less($1, $0) }
        compare("string-ci>=?", fold: true) { !less($0, $1) }
        i.define("string-upcase") { i, s in Value(object: i.heap.register(SchemeString(CaseMapping.upcase(try Check.string(s).scalars.scalarArray)))) }
        i.define("string-downcase") { i, s in Value(object: i.heap.register(SchemeString(CaseMapping.downcase(try Check.string(s).scalars.scalarArray)))) }
        i.define("string-foldcase") { i, s in Value(object: i.heap.register(SchemeString(CaseMapping.fold(try Check.string(s).scalars.scalarArray)))) }
        i.define("string-contains") { _, s, t in
            // Index of the first occurrence of t in s, or #f.
            let hay = try Check.string(s, 1).scalars, needle = try Check.string(t, 2).scalars
            if needle.isEmpty { return Value(fixnum: 0) }
            if needle.count > hay.count { return .false }
            for start in 0...(hay.count - needle.count) where hay[start] == needle[0] {
                if hay[start..<start + needle.count].elementsEqual(needle) { return Value(fixnum: start) }
            }
            return .false
        }
    }

    static func key(_ s: SchemeString, _ fold: Bool) throws -> StringStorage {
        fold ? StringStorage(CaseMapping.fold(s.scalars.scalarArray)) : s.scalars
    }

    /// (proc string [start [end]]) argument checking.
    static func range(_ args: Arguments, what: String) throws -> (SchemeString, Int, Int) {
        let str = try Check.string(args[0], 1)
        let r = try Check.span(args, at: 1, count: str.scalars.count)
        return (str, r.lowerBound, r.upperBound)
    }
}

/// Symbols (R7RS 6.5).
enum SymbolLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        i.define("symbol?") { _, x in Value(x.isSymbol) }
        i.define("symbol->string") { i, s in
            Value(object: i.heap.register(SchemeString(try Check.symbol(s).name, mutable: false)))
        }
        i.define("string->symbol") { i, s in i.symbol(try Check.string(s).string) }
        i.define("symbol=?", min: 1, max: nil) { _, args in
            let first = try Check.symbol(args[0], 1)
            var result = true
            for k in 1..<args.count where try Check.symbol(args[k], k + 1) !== first { result = false }
            return Value(result)
        }
        i.define("gensym", min: 0, max: 1) { i, args in
            let prefix = try args.optional(0).map { v -> String in
                if let s = v.as(Symbol.self) { return s.name }
                return try Check.string(v).string
            } ?? "g"
            return Value(object: i.symbols.gensym(prefix))
        }
        i.define("boolean?") { _, x in Value(x.isBoolean) }
        i.define("not") { _, x in Value(x.isFalse) }
        i.define("boolean=?", min: 1, max: nil) { _, args in
            for k in 0..<args.count where !args[k].isBoolean {
                throw SchemeError.wrongType(args[k], expected: "a boolean", argument: k + 1)
            }
            for k in 1..<args.count where args[k].raw != args[0].raw { return .false }
            return .true
        }
    }
}
