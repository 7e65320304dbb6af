/// Vectors (R7RS 6.8).
enum VectorLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        i.define("vector?") { _, x in Value(x.isObject(of: .vector)) }
        i.define("make-vector", min: 1, max: 2) { i, args in
            let n = try Check.int(args[0], 1)
            guard n >= 0 else { throw SchemeError.wrongType(args[0], expected: "a non-negative length", argument: 1) }
            try i.heap.reserve(Heap.bytes(n, each: 8), for: "make-vector of \(n) elements")
            return i.makeVector(Array(repeating: args.optional(1) ?? .false, count: n))
        }
        i.define("vector", min: 0, max: nil) { i, args in i.makeVector(args.array) }
        i.define("vector-length") { _, v in Value(fixnum: try Check.vector(v).items.count) }
        i.define("vector-ref") { _, v, k in
            let vec = try Check.vector(v)
            return vec.items[try Check.index(k, vec.items.count)]
        }
        i.define("vector-set!") { _, v, k, x in
            let vec = try Check.vector(v)
            guard vec.isMutable else { throw SchemeError(.error, "cannot modify a literal vector: ", irritants: [v]) }
            vec.items[try Check.index(k, vec.items.count)] = x
            return .unspecified
        }
        i.define("vector->list", min: 1, max: 3) { i, args in
            let (vec, start, end) = try range(args)
            try i.heap.reserve(Heap.bytes(end - start, each: Pair.size), for: "vector->list of \(end - start) elements")
            var r = Value.null
            for x in vec.items[start..<end].reversed() { r = i.cons(x, r) }
            return r
        }
        i.define("list->vector") { i, l in i.makeVector(try Check.list(l)) }
        i.define("vector-copy", min: 1, max: 3) { i, args in
            let (vec, start, end) = try range(args)
            return i.makeVector(Array(vec.items[start..<end]))
        }
        i.define("vector-fill!", min: 2, max: 4) { _, args in
            let vec = try Check.vector(args[0], 1)
            guard vec.isMutable else { throw SchemeError(.error, "cannot modify a literal vector: ", irritants: [args[0]]) }
            let n = vec.items.count
            let start = try args.optional(2).map { try Check.position($0, n, 3) } ?? 0
            let end = try args.optional(3).map { try Check.position($0, n, 4) } ?? n
            guard start <= end else { throw SchemeError(.range, "start \(start) is after end \(end)") }
            for k in start..<end { vec.items[k] = args[1] }
            return .unspecified
        }
        i.define("vector-append", min: 0, max: nil) { i, args in
            var length = 0
            for k in 0..<args.count { length = length &+ (try Check.vector(args[k], k + 1).items.count) }
            try i.heap.reserve(Heap.bytes(length, each: 8), for: "vector-append of \(length) elements")
            var out: [Value] = []
            out.reserveCapacity(length)
            for k in 0..<args.count { out.append(contentsOf: try Check.vector(args[k], k + 1).items) }
            return i.makeVector(out)
        }
    }

    static func range(_ args: Arguments) throws -> (SchemeVector, Int, Int) {
        let vec = try Check.vector(args[0], 1)
        let r = try Check.span(args, at: 1, count: vec.items.count)
        return (vec, r.lowerBound, r.upperBound)
    }
}

extension Interpreter {
    /// A fresh mutable vector.
    public func makeVector(_ items: [Value]) -> Value { Value(object: heap.register(SchemeVector(items))) }
}
