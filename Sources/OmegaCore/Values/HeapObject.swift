/// What a heap object is; read with one load instead of a dynamic cast.
public enum ObjectKind: UInt8 {
    case pair, symbol, string, vector, bytevector
    case bignum, ratnum, flonum, compnum
    case closure, primitive, continuation, parameter
    case template, box, cell
    case values, errorObject, record, recordType
    case port, promise, environment, hashTable, opaque
}

/// The base class of everything a `Value` can point to.
///
/// Objects are owned by the `Heap` (which holds the only long-lived strong
/// reference) and reached from values through unretained pointers. Each
/// subclass reports the values and objects it refers to in `trace`, so that
/// the collector can find everything reachable.
public class HeapObject {
    /// Kind tag, so hot paths can test a type with a single load.
    let kind: ObjectKind
    /// The collection cycle that last found this object reachable.
    final var markEpoch: UInt32 = 0

    init(kind: ObjectKind) { self.kind = kind }

    /// Reports every value and object this object refers to.
    func trace(_ marker: inout Marker) {}

    /// An estimate of the object's size in bytes, for GC pacing.
    var approximateSize: Int { 32 }
}

/// A mutable cell holding one value: variables that are both captured by a
/// closure and assigned are kept in boxes so closures share them.
final class Box: HeapObject {
    var value: Value
    init(_ value: Value) { self.value = value; super.init(kind: .box) }
    override func trace(_ marker: inout Marker) { marker.mark(value) }
}

/// A top-level (global) variable. Compiled code refers to the cell directly,
/// so a global reference is one load, not a name lookup.
public final class GlobalCell: HeapObject {
    /// The variable's name.
    public let name: Symbol
    var value: Value = .unbound
    /// When the cell holds a built-in procedure that compiled code may inline
    /// (e.g. `+`), that procedure; inlined code falls back to a normal call
    /// when the cell no longer holds it.
    var integrable: Value = .unbound

    init(name: Symbol) { self.name = name; super.init(kind: .cell) }
    override func trace(_ marker: inout Marker) {
        marker.mark(value)
        marker.mark(integrable)
        marker.mark(object: name)
    }
}

/// Several values returned at once by `values` (zero or two and more).
final class MultipleValues: HeapObject {
    let items: [Value]
    init(_ items: [Value]) { self.items = items; super.init(kind: .values) }
    override func trace(_ marker: inout Marker) { for v in items { marker.mark(v) } }
}
