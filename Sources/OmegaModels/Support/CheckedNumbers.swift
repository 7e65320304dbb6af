import Foundation
import OmegaCore

/// Where a number from a script, a configuration file or a server becomes a
/// Swift integer or a duration. Swift traps on a conversion that does not
/// fit (`Int64(1e300)`), so every such conversion of input goes through here
/// and either fits or is reported as an error naming the option.
public enum CheckedNumber {
    /// The longest sleep anything in Omega asks for: a day.
    static let longestSleep = 86_400.0

    /// `seconds` as nanoseconds for `Task.sleep`: below zero or NaN is no
    /// sleep, more than a day a day.
    static func sleepNanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds > 0 else { return 0 }   // NaN compares false too
        return UInt64(min(seconds, longestSleep) * 1e9)
    }

    /// `d` rounded to an Int when finite and within Int's range, else nil.
    static func int(_ d: Double) -> Int? {
        guard d.isFinite, d > -9.2e18, d < 9.2e18 else { return nil }
        return Int(d.rounded())
    }

    /// Seconds as whole milliseconds (the budgets' time unit), when finite,
    /// not negative and at most a hundred years; else nil.
    public static func milliseconds(_ seconds: Double) -> Int64? {
        guard seconds.isFinite, seconds >= 0, seconds <= 3.2e9 else { return nil }
        return Int64((seconds * 1000).rounded())
    }

    /// `d` when it is finite and in `range`, else nil.
    static func within(_ d: Double, _ range: ClosedRange<Double>) -> Double? {
        d.isFinite && range.contains(d) ? d : nil
    }

    /// How a range reads in an error: `0 to 3600`.
    static func describe(_ range: ClosedRange<Double>) -> String {
        func n(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x) }
        return "\(n(range.lowerBound)) to \(n(range.upperBound))"
    }
}

/// A size people write: `512M`, `2G`, `1.5g`, `65536` (bytes), `800k`.
public enum MemorySize {
    /// The bytes `text` names, when at least 16 MiB and at most 1 TiB; else nil.
    public static func parse(_ text: String) -> Int? {
        var t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.hasSuffix("b") { t.removeLast() }
        if t.hasSuffix("i") { t.removeLast() }
        var scale = 1.0
        switch t.last {
        case "k": scale = 1024
        case "m": scale = 1024 * 1024
        case "g": scale = 1024 * 1024 * 1024
        case "t": scale = 1024 * 1024 * 1024 * 1024
        default: break
        }
        if scale != 1 { t.removeLast() }
        guard let d = Double(t), let bytes = CheckedNumber.within(d * scale, Double(16 << 20)...Double(1 << 40)) else { return nil }
        return Int(bytes)
    }
}
