/// An exact integer outside the fixnum range. Always normalised: a value
/// that fits a fixnum is never a `Bignum`.
final class Bignum: HeapObject {
    let value: LargeInt
    init(_ value: LargeInt) { self.value = value; super.init(kind: .bignum) }
    override var approximateSize: Int { 80 + value.limbCount * 8 }
}

/// An exact non-integer rational, normalised: denominator > 1, gcd 1.
final class Ratnum: HeapObject {
    let numerator: LargeInt
    let denominator: LargeInt
    init(_ n: LargeInt, _ d: LargeInt) {
        numerator = n
        denominator = d
        super.init(kind: .ratnum)
    }
    override var approximateSize: Int { 128 + (numerator.limbCount + denominator.limbCount) * 8 }
}

/// An inexact real.
final class Flonum: HeapObject {
    let value: Double
    init(_ value: Double) { self.value = value; super.init(kind: .flonum) }
}
