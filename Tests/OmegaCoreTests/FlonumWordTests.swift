import Testing
@testable import OmegaCore

/// Flonums held in the value word (issue 18): every double comes back bit
/// for bit, in one form only, and float arithmetic stops allocating.
@Suite struct FlonumWordTests {
    @Test func everyDoubleRoundTripsInOneForm() throws {
        let omega = try Interpreter()
        var generator = SystemRandomNumberGenerator()
        var doubles: [Double] = [0, -0.0, 1, -1, 2, 0.5, 1.5, 3.0e38, 1e-38, 1e-39, 1e300, -1e-300, .infinity, -.infinity,
                                 .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .ulpOfOne,
                                 Double(sign: .plus, exponent: -127, significand: 1), Double(sign: .minus, exponent: -127, significand: 1),
                                 Double(sign: .plus, exponent: 128, significand: 1.999), Double(sign: .plus, exponent: 129, significand: 1)]
        for _ in 0..<20_000 { doubles.append(Double(bitPattern: generator.next())) }
        for d in doubles {
            let v = omega.heap.flonum(d)
            let back: Double
            if v.isInWordFlonum { back = v.inWordFlonum } else { back = v.unsafeObject(Flonum.self).value }
            #expect(back.bitPattern == d.bitPattern, "\(d)")
            // In the word exactly when the magnitude is in range (and not 2^-127, whose word is zero's).
            let m = d.magnitude
            let inRange = d.bitPattern == 0
                || (m >= 0x1p-127 && m < 0x1p129 && d.bitPattern != (0x1p-127 as Double).bitPattern && d.isFinite)
            #expect(v.isInWordFlonum == inRange, "\(d)")
            #expect(!v.isInWordFlonum || !v.isHeapObject && !v.isPair && !v.isFixnum && !v.isChar)
        }
    }

    @Test func floatArithmeticInRangeAllocatesNothing() throws {
        let omega = try Interpreter()
        _ = try omega.evaluate("(define (sum n) (let loop ((i 0) (x 0.0)) (if (= i n) x (loop (+ i 1) (+ x 0.25)))))")
        let before = omega.heap.objectCount
        let v = try omega.evaluate("(sum 100000)")
        #expect(omega.string(try omega.evaluate("(number->string (sum 100000))")) == "25000.0")
        #expect(v.isInWordFlonum)
        #expect(omega.heap.objectCount - before < 100)
    }
}
