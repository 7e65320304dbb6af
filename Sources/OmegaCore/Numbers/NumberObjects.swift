import BigInt

/// An exact integer outside the fixnum range. Always normalised: a value
/// that fits a fixnum is never a `Bignum`.
final class Bignum: HeapObject {
    let value: BigInt
    init(_ value: BigInt) { self.value = value; super.init(kind: .bignum) }
    override var approximateSize: Int { 48 + value.magnitude.words.count * 8 }
}

/// An exact non-integer rational, normalised: denominator > 1, gcd 1.
final class Ratnum: HeapObject {
    let numerator: BigInt
    let denominator: BigInt
    init(_ n: BigInt, _ d: BigInt) {
        numerator = n
        denominator = d
        super.init(kind: .ratnum)
    }
    override var approximateSize: Int { 64 + (numerator.magnitude.words.count + denominator.magnitude.words.count) * 8 }
}

/// An inexact real.
final class Flonum: HeapObject {
    let value: Double
    init(_ value: Double) { self.value = value; super.init(kind: .flonum) }
}
