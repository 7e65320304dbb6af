/// A Scheme value: one 64-bit word.
///
/// Immediates (fixnums, booleans, characters, the empty list and the other
/// constants) are encoded in the word itself, so copying them never touches a
/// reference count. Pairs point to cells of the heap's pair slabs; other
/// heap objects are *unretained* pointers to `HeapObject` instances owned by
/// the interpreter's `Heap`; the garbage collector keeps
/// every object reachable from the roots alive (see `Heap`).
///
/// ```
///  bits 63 ………………………………… 3 2 1 0
///  [        63-bit integer         | 1]   fixnum
///  [   object pointer (16-aligned)  000]   heap object (not a pair)
///  [   cell pointer (16-aligned)    100]   pair (a cell of `PairSlabs`)
///  [ payload …  | subtag (5 bits) | 010]   immediate constant or character
///  [ double, rotated left by 4    | 110]   flonum of magnitude 2^-127 … 2^129
/// ```
///
/// A flonum whose exponent is within 2^-127 … 2^129 (almost every value a
/// program computes) is held in the word: its top four bits after the sign
/// are then 0111 or 1000, so three of them follow from the fourth and give
/// way to the tag. Zero takes the word of 2^-127; that value, −0.0, NaNs,
/// infinities and magnitudes outside the range are `Flonum` objects. Each
/// double has exactly one form, so `eqv?` of two in-word flonums is the
/// equality of their words.
///
/// A `Value` that points to a heap object is valid only while that object is
/// reachable from the interpreter's roots. Host code that keeps a value across
/// evaluations holds it through a `SchemeHandle`.
@frozen
public struct Value: Hashable, @unchecked Sendable {
    /// The 64-bit word itself (tag bits and payload), for hosts that store values compactly.
    public let raw: UInt64

    @inline(__always) init(raw: UInt64) { self.raw = raw }

    // MARK: Tags

    static let pairTag: UInt64 = 0b100
    static let immediateTag: UInt64 = 0b010
    static let tagMask: UInt64 = 0b111

    @inline(__always) static func constant(_ sub: UInt64) -> Value {
        Value(raw: (sub << 3) | immediateTag)
    }

    /// The empty list `()`.
    public static let null = constant(0)
    /// The boolean `#t`.
    public static let `true` = constant(1)
    /// The boolean `#f`.
    public static let `false` = constant(2)
    /// The value of expressions whose value R7RS leaves unspecified.
    public static let unspecified = constant(3)
    /// The end-of-file object.
    public static let eof = constant(4)
    /// Marks a variable that is bound but not yet initialised (letrec).
    static let undefined = constant(5)
    /// Marks a global cell that has no value.
    static let unbound = constant(6)
    /// The default value of a missing optional argument.
    static let defaultObject = constant(7)
    static let charSubtag: UInt64 = 8

    // MARK: Fixnums

    /// The smallest and largest integers stored without allocation.
    public static let fixnumMin = -(1 << 62)
    /// The largest integer held in the word itself; larger ones are bignums on the heap.
    public static let fixnumMax = (1 << 62) - 1

    /// Whether this is an exact integer held in the word (a fixnum).
    @inline(__always) public var isFixnum: Bool { raw & 1 != 0 }

    /// A fixnum; the caller guarantees `n` is within `fixnumMin...fixnumMax`.
    @inline(__always) package init(fixnum n: Int) {
        raw = UInt64(bitPattern: Int64(n) << 1) | 1
    }

    /// The fixnum's integer (only meaningful when `isFixnum`).
    @inline(__always) public var fixnum: Int { Int(Int64(bitPattern: raw) >> 1) }

    /// True when `n` fits a fixnum.
    @inline(__always) static func fitsFixnum(_ n: Int) -> Bool { n >= fixnumMin && n <= fixnumMax }

    // MARK: Flonums in the word

    static let flonumTag: UInt64 = 0b110
    /// +0.0's word: the in-word form of 2^-127 (which is boxed instead).
    static let zeroFlonumRaw: UInt64 = 0x8000_0000_0000_0006

    /// `d` held in the word, or nil when it must be a `Flonum` object.
    @inline(__always) static func inWordFlonum(_ d: Double) -> Value? {
        let v = d.bitPattern
        let top = (v >> 59) & 0xF
        if top == 0b0111 || top == 0b1000 {
            let raw = (((v << 4) | (v >> 60)) & ~Value.tagMask) | flonumTag
            return raw == zeroFlonumRaw ? nil : Value(raw: raw)
        }
        return v == 0 ? Value(raw: zeroFlonumRaw) : nil
    }

    /// Whether this is a flonum held in the word.
    @inline(__always) var isInWordFlonum: Bool { raw & Value.tagMask == Value.flonumTag }

    /// The double of an in-word flonum (only meaningful when `isInWordFlonum`).
    @inline(__always) var inWordFlonum: Double {
        if raw == Value.zeroFlonumRaw { return 0 }
        // The three bits the tag took: 011 when the fourth (now bit 63) is 1, else 100.
        let r = (raw & ~Value.tagMask) | (raw >> 63 != 0 ? 0b011 : 0b100)
        return Double(bitPattern: (r >> 4) | (r << 60))
    }

    // MARK: Booleans and characters

    /// `#t` or `#f`.
    @inline(__always) public init(_ b: Bool) { self = b ? .true : .false }
    /// Whether this is `#f` (the only false value in Scheme).
    @inline(__always) public var isFalse: Bool { raw == Value.false.raw }
    /// Whether this counts as true: anything but `#f`.
    @inline(__always) public var isTrue: Bool { raw != Value.false.raw }
    /// Whether this is `#t` or `#f`.
    @inline(__always) public var isBoolean: Bool { self == .true || self == .false }
    /// Whether this is the empty list `'()`.
    @inline(__always) public var isNull: Bool { raw == Value.null.raw }

    /// A character.
    @inline(__always) public init(char c: Unicode.Scalar) {
        raw = (UInt64(c.value) << 8) | (Value.charSubtag << 3) | Value.immediateTag
    }
    /// Whether this is a character.
    @inline(__always) public var isChar: Bool { raw & 0xFF == (Value.charSubtag << 3) | Value.immediateTag }
    /// The character (only meaningful when `isChar`).
    public var char: Unicode.Scalar { Unicode.Scalar(UInt32(truncatingIfNeeded: raw >> 8)) ?? "\u{FFFD}" }

    // MARK: Heap objects

    /// Whether this is a pair (a non-empty list cell).
    @inline(__always) public var isPair: Bool { raw & Value.tagMask == Value.pairTag }
    /// True for any heap object, pairs included.
    @inline(__always) public var isHeapObject: Bool { raw & 0b011 == 0 && raw != 0 }
    /// True for heap objects other than pairs.
    @inline(__always) var isOtherObject: Bool { raw & Value.tagMask == 0 && raw != 0 }

    @inline(__always) var objectPointer: UnsafeRawPointer {
        UnsafeRawPointer(bitPattern: UInt(raw & ~Value.tagMask)).unsafelyUnwrapped
    }

    /// Wraps an object the heap owns. Use `Heap.allocate`/`Interpreter` APIs
    /// rather than calling this on an unregistered object.
    @inline(__always) package init(object: HeapObject) {
        raw = UInt64(UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque()))
    }
    @inline(__always) package init(pair: Pair) {
        raw = UInt64(UInt(bitPattern: pair.cell)) | Value.pairTag
    }

    /// The object, borrowed without retaining it, for the body's duration.
    @inline(__always) func withObject<R>(_ body: (HeapObject) throws -> R) rethrows -> R {
        try Unmanaged<HeapObject>.fromOpaque(objectPointer)._withUnsafeGuaranteedRef(body)
    }

    /// The object as a strong reference (slow paths only); nil for immediates.
    public var object: HeapObject? {
        isOtherObject ? Unmanaged<HeapObject>.fromOpaque(objectPointer).takeUnretainedValue() : nil
    }

    /// The object's kind, or nil for immediates and pairs.
    @inline(__always) var kind: ObjectKind? {
        isOtherObject ? withObject { $0.kind } : nil
    }

    @inline(__always) func isObject(of k: ObjectKind) -> Bool {
        isOtherObject && withObject { $0.kind == k }
    }

    /// The object downcast without a check; the caller has checked `kind`.
    @inline(__always) func unsafeObject<T: HeapObject>(_ type: T.Type) -> T {
        unsafeDowncast(Unmanaged<HeapObject>.fromOpaque(objectPointer).takeUnretainedValue(), to: T.self)
    }

    /// The object as `T` when it is one.
    package func `as`<T: HeapObject>(_ type: T.Type) -> T? {
        guard isOtherObject else { return nil }
        return Unmanaged<HeapObject>.fromOpaque(objectPointer).takeUnretainedValue() as? T
    }

    // MARK: Pairs (hot path: no retain)

    @inline(__always) private var pairCell: UnsafeMutablePointer<Value> {
        UnsafeMutablePointer(bitPattern: UInt(raw &- Value.pairTag)).unsafelyUnwrapped
    }
    /// The pair (only meaningful when `isPair`).
    @inline(__always) package var pair: Pair { Pair(cell: pairCell) }
    @inline(__always) var car: Value { pairCell.pointee }
    @inline(__always) var cdr: Value { pairCell[1] }

    // MARK: Common predicates

    /// Whether this is a symbol.
    public var isSymbol: Bool { isObject(of: .symbol) }
    /// Whether this is a string.
    public var isString: Bool { isObject(of: .string) }
    /// Whether this can be called: a closure, a built-in, a continuation or a parameter.
    public var isProcedure: Bool {
        guard let k = kind else { return false }
        return k == .closure || k == .primitive || k == .continuation || k == .parameter
    }
    /// True for exact integers (fixnums and bignums).
    public var isExactInteger: Bool { isFixnum || isObject(of: .bignum) }
    /// Whether this is a number of any kind (exact, inexact, complex).
    public var isNumber: Bool {
        if isFixnum || isInWordFlonum { return true }
        guard let k = kind else { return false }
        return k == .bignum || k == .ratnum || k == .flonum || k == .compnum
    }
}
