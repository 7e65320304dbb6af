/// Pairs and lists (R7RS 6.4). Higher-order list procedures (`map`,
/// `for-each`, `assoc` with a predicate, …) are in stdlib/ as Scheme.
enum ListLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        i.define("cons") { i, a, b in i.cons(a, b) }
        i.define("car") { _, p in try Check.pair(p).car }
        i.define("cdr") { _, p in try Check.pair(p).cdr }
        i.define("set-car!") { _, p, v in try Check.pair(p).car = v; return .unspecified }
        i.define("set-cdr!") { _, p, v in try Check.pair(p).cdr = v; return .unspecified }
        // caar … cddddr
        for length in 2...4 {
            for bits in 0..<(1 << length) {
                var path = ""
                for k in 0..<length { path += (bits >> k) & 1 == 0 ? "a" : "d" }
                let name = "c\(path)r"
                let steps = Array(path.reversed())
                i.define(name) { _, x in
                    var v = x
                    for s in steps {
                        guard v.isPair else { throw SchemeError.wrongType(x, expected: "a list with the structure \(name) needs") }
                        v = s == "a" ? v.car : v.cdr
                    }
                    return v
                }
            }
        }
        i.define("pair?") { _, x in Value(x.isPair) }
        i.define("null?") { _, x in Value(x.isNull) }
        i.define("list?") { _, x in Value(properListLength(x) != nil) }
        i.define("list", min: 0, max: nil) { i, args in
            var r = Value.null
            var k = args.count - 1
            while k >= 0 { r = i.cons(args[k], r); k -= 1 }
            return r
        }
        i.define("make-list", min: 1, max: 2) { i, args in
            let n = try Check.int(args[0], 1)
            guard n >= 0 else { throw SchemeError.wrongType(args[0], expected: "a non-negative count", argument: 1) }
            let fill = args.optional(1) ?? .unspecified
            try i.heap.reserve(Heap.bytes(n, each: Pair.size), for: "make-list of \(n) elements")
            var r = Value.null
            for _ in 0..<n { r = i.cons(fill, r) }
            return r
        }
        i.define("length") { _, x in
            guard let count = properListLength(x) else { throw SchemeError.wrongType(x, expected: "a proper list") }
            return Value(fixnum: count)
        }
        i.define("append", min: 0, max: nil) { i, args in
            if args.count == 0 { return .null }
            var result = args[args.count - 1]
            var k = args.count - 2
            while k >= 0 {
                let items = try Check.list(args[k], k + 1)
                for v in items.reversed() { result = i.cons(v, result) }
                k -= 1
            }
            return result
        }
        i.define("reverse") { i, x in
            var r = Value.null
            for v in try Check.list(x) { r = i.cons(v, r) }
            return r
        }
        i.define("list-tail") { _, x, k in
            var v = x
            let n = try Check.int(k, 2)
            for _ in 0..<max(n, 0) {
                guard v.isPair else { throw SchemeError(.range, "argument 2: index \(n) is past the end of the list") }
                v = v.cdr
            }
            return v
        }
        i.define("list-ref") { _, x, k in
            var v = x
            let n = try Check.int(k, 2)
            guard n >= 0 else { throw SchemeError(.range, "argument 2: negative index \(n)") }
            for _ in 0..<n {
                guard v.isPair else { throw SchemeError(.range, "argument 2: index \(n) is past the end of the list") }
                v = v.cdr
            }
            guard v.isPair else { throw SchemeError(.range, "argument 2: index \(n) is past the end of the list") }
            return v.car
        }
        i.define("list-copy") { i, x in
            var items: [Value] = []
            var walk = ListWalk(x)
            while let p = walk.next() { items.append(p.car) }
            if walk.isCircular { throw SchemeError.wrongType(x, expected: "a list, not a circular one") }
            var r = walk.rest
            for v in items.reversed() { r = i.cons(v, r) }
            return r
        }
        i.define("last-pair") { _, x in
            _ = try Check.pair(x)
            var walk = ListWalk(x)
            var last = x
            while let p = walk.next() { last = p }
            if walk.isCircular { throw SchemeError.wrongType(x, expected: "a list, not a circular one") }
            return last
        }
        // A circular list is an error only when the walk comes round
        // without finding the element (R7RS leaves it undefined; it must end).
        func member(_ name: String, _ same: @escaping (Interpreter, Value, Value) -> Bool) {
            i.define(name) { i, x, list in
                var walk = ListWalk(list)
                while let p = walk.next() {
                    if same(i, x, p.car) { return p }
                }
                if walk.isCircular {
                    var e = SchemeError.wrongType(list, expected: "a list, not a circular one", argument: 2)
                    e.procedure = name.hasPrefix("%") ? String(name.dropFirst()) : name  // %member is member's
                    throw e
                }
                return .false
            }
        }
        member("memq") { _, a, b in a.raw == b.raw }
        member("memv") { _, a, b in Equality.eqv(a, b) }
        member("%member") { _, a, b in Equality.equal(a, b) }
        func assoc(_ name: String, _ same: @escaping (Value, Value) -> Bool) {
            i.define(name) { _, x, list in
                var walk = ListWalk(list)
                while let p = walk.next() {
                    let entry = p.car
                    guard entry.isPair else { throw notAnAssociationList("an association list (a list of pairs)") }
                    if same(x, entry.car) { return entry }
                }
                if walk.isCircular { throw notAnAssociationList("an association list, not a circular one") }
                return .false
                func notAnAssociationList(_ expected: String) -> SchemeError {
                    var e = SchemeError.wrongType(list, expected: expected, argument: 2)
                    e.procedure = name.hasPrefix("%") ? String(name.dropFirst()) : name  // %assoc is assoc's
                    return e
                }
            }
        }
        assoc("assq") { a, b in a.raw == b.raw }
        assoc("assv") { a, b in Equality.eqv(a, b) }
        assoc("%assoc") { a, b in Equality.equal(a, b) }
    }
}
