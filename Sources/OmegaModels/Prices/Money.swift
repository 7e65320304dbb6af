import OmegaCore
/// An exact amount of US dollars, counted in picodollars (10⁻¹² USD).
///
/// Per-token prices are tiny decimals ($0.15 per million tokens is 1.5e-7 USD
/// a token); summing them in binary floating point drifts. A picodollar is
/// fine enough for every published per-token price (they have at most 12
/// decimals of a dollar) and an Int64 of them still holds $9.2 million, more
/// than any budget. Arithmetic that would overflow throws instead of wrapping.
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The amount in picodollars.
    public var picodollars: Int64

    /// No money.
    public static let zero = Money(picodollars: 0)
    /// Picodollars in one dollar.
    public static let scale: Int64 = 1_000_000_000_000

    /// An amount in picodollars (10⁻¹² dollars).
    public init(picodollars: Int64) { self.picodollars = picodollars }

    /// An amount given as a decimal number of dollars (`"0.50"`, `"2.5e-06"`).
    /// Nil when the text is not a number, needs more than 12 decimals, or is too large.
    public init?(dollars text: String) {
        guard let v = Money.parseDecimal(text, shift: 12) else { return nil }
        picodollars = v
    }

    /// An amount given in dollars per million tokens, as price lists print
    /// them, converted to dollars per token (`"2.50"` → $0.0000025).
    public init?(perMillionTokens text: String) {
        guard let v = Money.parseDecimal(text, shift: 6) else { return nil }
        picodollars = v
    }

    public static func < (a: Money, b: Money) -> Bool { a.picodollars < b.picodollars }

    /// Errors of money arithmetic.
    public struct Overflow: Error, CustomStringConvertible {
        public var description: String { "amount of money too large (over $9,223,372)" }
    }

    /// `a + b`, throwing on overflow.
    public static func sum(_ a: Money, _ b: Money) throws -> Money {
        let (v, o) = a.picodollars.addingReportingOverflow(b.picodollars)
        if o { throw Overflow() }
        return Money(picodollars: v)
    }

    /// `a - b`, throwing on overflow.
    public static func difference(_ a: Money, _ b: Money) throws -> Money {
        let (v, o) = a.picodollars.subtractingReportingOverflow(b.picodollars)
        if o { throw Overflow() }
        return Money(picodollars: v)
    }

    /// This per-unit amount times `count` units, throwing on overflow.
    public func times(_ count: Int) throws -> Money {
        let (v, o) = picodollars.multipliedReportingOverflow(by: Int64(count))
        if o { throw Overflow() }
        return Money(picodollars: v)
    }

    /// The amount as an exact fraction of dollars, in lowest terms.
    public var fraction: (numerator: Int64, denominator: Int64) {
        var a = picodollars.magnitude, b = UInt64(Money.scale)
        while b != 0 { (a, b) = (b, a % b) }
        let g = Int64(a == 0 ? 1 : a)
        return (picodollars / g, Money.scale / g)
    }

    /// `$1.25`, `$0.000002` — every significant decimal, at least cents.
    public var description: String {
        let negative = picodollars < 0
        let m = picodollars.magnitude
        let whole = m / UInt64(Money.scale), frac = m % UInt64(Money.scale)
        var digits = String(frac)
        digits = String(repeating: "0", count: 12 - digits.count) + digits
        while digits.count > 2 && digits.hasSuffix("0") { digits.removeLast() }
        return (negative ? "-$" : "$") + "\(whole).\(digits)"
    }

    /// Parses `[-]digits[.digits][e[+-]digits]` into an integer count of
    /// 10^-shift units; nil if not exact at that scale or out of range.
    static func parseDecimal(_ text: String, shift: Int) -> Int64? {
        // Over the UTF-8 bytes: CharacterSet trimming and Character digit
        // values made the built-in price table a noticeable part of start-up.
        var bytes = Array(text.utf8)[...]
        while let b = bytes.first, b == 0x20 || b == 0x09 { bytes.removeFirst() }
        while let b = bytes.last, b == 0x20 || b == 0x09 { bytes.removeLast() }
        var negative = false
        if let b = bytes.first, b == UInt8(ascii: "-") || b == UInt8(ascii: "+") { negative = b == UInt8(ascii: "-"); bytes.removeFirst() }
        var mantissa: [UInt8] = []
        var fractionDigits = 0, seenPoint = false, exponent = 0
        while let c = bytes.first {
            if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                mantissa.append(c - UInt8(ascii: "0"))
                if seenPoint { fractionDigits += 1 }
            } else if c == UInt8(ascii: ".") && !seenPoint {
                seenPoint = true
            } else if c == UInt8(ascii: "_") {
                // digit separator, as TOML allows
            } else {
                break
            }
            bytes.removeFirst()
        }
        var chars = Substring(String(decoding: bytes, as: UTF8.self))
        guard !mantissa.isEmpty else { return nil }
        if let e = chars.first, e == "e" || e == "E" {
            chars.removeFirst()
            guard let x = Int(chars), abs(x) < 100 else { return nil }
            exponent = x
            chars = ""
        }
        guard chars.isEmpty else { return nil }
        // value = mantissa × 10^(exponent − fractionDigits + shift)
        var power = exponent - fractionDigits + shift
        while power < 0 {
            guard let last = mantissa.last, last == 0 else { return nil }   // more decimals than the scale holds
            mantissa.removeLast()
            power += 1
            if mantissa.isEmpty { return 0 }
        }
        var v: Int64 = 0
        for d in mantissa + [UInt8](repeating: 0, count: power) {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(d))
            if o1 || o2 { return nil }
            v = s
        }
        return negative ? -v : v
    }
}

import Foundation
