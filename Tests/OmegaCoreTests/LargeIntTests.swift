import Testing
@testable import OmegaCore

/// Large integers on GMP's natural-number layer (issue 18): checked against
/// Swift's own 128-bit integers where both reach, and against the
/// identities of integer division beyond.
@Suite struct LargeIntTests {
    /// Values spread over the 128-bit range: small, near limb boundaries,
    /// and random, of both signs.
    static func samples() -> [Int128] {
        var rng = SystemRandomNumberGenerator()
        var values: [Int128] = [0, 1, -1, 2, 7, -7, Int128(Int.max), Int128(Int.min), Int128(UInt.max),
                                -Int128(UInt.max), Int128(UInt.max) + 1, Int128.max / 3, Int128.min / 5]
        for bits in [10, 63, 64, 65, 100, 120] {
            for _ in 0..<6 {
                let magnitude = Int128(truncatingIfNeeded: UInt128.random(in: 0...(UInt128(1) << bits), using: &rng))
                values.append(Bool.random(using: &rng) ? magnitude : -magnitude)
            }
        }
        return values
    }

    static func large(_ v: Int128) -> LargeInt { LargeInt(String(v))! }

    @Test func arithmeticAgreesWithInt128() throws {
        let values = Self.samples()
        for a in values {
            #expect(Self.large(a).description == String(a))
            for b in values {
                let x = Self.large(a), y = Self.large(b)
                let (sum, o1) = a.addingReportingOverflow(b)
                if !o1 { #expect((x + y).description == String(sum), "\(a) + \(b)") }
                let (difference, o2) = a.subtractingReportingOverflow(b)
                if !o2 { #expect((x - y).description == String(difference), "\(a) - \(b)") }
                let (product, o3) = a.multipliedReportingOverflow(by: b)
                if !o3 { #expect((x * y).description == String(product), "\(a) * \(b)") }
                if b != 0 && !(a == .min && b == -1) {
                    let (q, r) = x.quotientAndRemainder(dividingBy: y)
                    #expect(q.description == String(a / b) && r.description == String(a % b), "\(a) / \(b)")
                }
                #expect(LargeInt.compare(x, y) == (a < b ? -1 : (a == b ? 0 : 1)), "\(a) <=> \(b)")
                if let small = Int(exactly: b) {
                    #expect(x.compare(small) == (a < b ? -1 : (a == b ? 0 : 1)))
                    let (s, o) = a.addingReportingOverflow(b)
                    if !o { #expect(x.adding(small).description == String(s)) }
                    let (p, o4) = a.multipliedReportingOverflow(by: b)
                    if !o4 { #expect(x.multiplied(by: small).description == String(p)) }
                }
            }
            #expect(Self.large(a).doubleValue == Double(a), "\(a) as a double")
            #expect(Self.large(a).smallValue == Int(exactly: a))
            #expect(Self.large(a).bitWidth == Int128.bitWidth - a.magnitude.leadingZeroBitCount)
        }
    }

    @Test func divisionIdentitiesHoldForManyLimbs() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let n = randomLarge(limbs: Int.random(in: 1...40, using: &rng), using: &rng)
            let d = randomLarge(limbs: Int.random(in: 1...20, using: &rng), using: &rng)
            guard !d.isZero else { continue }
            let (q, r) = n.quotientAndRemainder(dividingBy: d)
            #expect(q * d + r == n)
            #expect(LargeInt.compare(r.magnitude, d.magnitude) < 0)
            #expect(r.isZero || r.isNegative == n.isNegative)
            #expect((n * d).quotientAndRemainder(dividingBy: d).quotient == n)
            #expect((n + d) - d == n)
            let g = n.greatestCommonDivisor(with: d)
            #expect(n.quotientAndRemainder(dividingBy: g).remainder.isZero)
            #expect(d.quotientAndRemainder(dividingBy: g).remainder.isZero)
            let s = n.squareRoot()
            #expect(LargeInt.compare(s * s, n.magnitude) <= 0 && LargeInt.compare(s.adding(1) * s.adding(1), n.magnitude) > 0)
            for radix in [2, 10, 16, 36] {
                #expect(LargeInt(n.toString(radix: radix), radix: radix) == n)
            }
            let k = Int.random(in: 0...200, using: &rng)
            #expect(n.shiftedLeft(k).shiftedRight(k) == n)
            #expect(n.shiftedLeft(k) == n * LargeInt(2).power(k))
        }
    }

    @Test func textThatIsNotDigitsIsRefused() {
        #expect(LargeInt("") == nil)
        #expect(LargeInt("-") == nil)
        #expect(LargeInt("12a") == nil)
        #expect(LargeInt("1 2") == nil)
        #expect(LargeInt("+-1") == nil)
        #expect(LargeInt("z", radix: 35) == nil)
        #expect(LargeInt("Zz", radix: 36)?.description == "1295")
        #expect(LargeInt("-0")?.isNegative == false)
    }

    func randomLarge(limbs: Int, using rng: inout SystemRandomNumberGenerator) -> LargeInt {
        var text = Bool.random(using: &rng) ? "-" : ""
        for _ in 0..<limbs { text += String(UInt64.random(in: 0...UInt64.max, using: &rng), radix: 16) }
        return LargeInt(text, radix: 16)!
    }
}
