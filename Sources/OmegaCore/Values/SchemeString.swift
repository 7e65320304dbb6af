/// A Scheme string: its characters in a `StringStorage` (one byte each
/// while they are ASCII), so `string-ref` is O(1).
public final class SchemeString: HeapObject {
    var scalars: StringStorage
    /// String literals are immutable (R7RS); `string-set!` on them is an error.
    let isMutable: Bool

    init(_ scalars: StringStorage, mutable: Bool = true) {
        self.scalars = scalars
        self.isMutable = mutable
        super.init(kind: .string)
    }

    convenience init(_ scalars: [Unicode.Scalar], mutable: Bool = true) {
        self.init(StringStorage(scalars), mutable: mutable)
    }

    convenience init(_ s: String, mutable: Bool = true) {
        self.init(StringStorage(s), mutable: mutable)
    }

    /// The Swift string of an immutable string (a literal), made once.
    private var cachedString: String?

    /// The contents as a Swift string.
    public var string: String {
        if let c = cachedString { return c }
        let s = scalars.string
        if !isMutable { cachedString = s }
        return s
    }
    override var approximateSize: Int { 48 + scalars.byteCount }
}

/// A Scheme vector.
public final class SchemeVector: HeapObject {
    @exclusivity(unchecked) package var items: [Value]
    let isMutable: Bool
    init(_ items: [Value], mutable: Bool = true) {
        self.items = items
        self.isMutable = mutable
        super.init(kind: .vector)
    }
    override func trace(_ marker: inout Marker) { for v in items { marker.mark(v) } }
    override var approximateSize: Int { 48 + items.count * 8 }
}

/// A Scheme bytevector.
public final class Bytevector: HeapObject {
    var bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes; super.init(kind: .bytevector) }
    override var approximateSize: Int { 48 + bytes.count }
}
