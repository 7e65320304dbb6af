import Foundation
import OmegaCore

/// What a budget can limit.
public enum BudgetUnit: String, CaseIterable, Sendable, Codable {
    case inputTokens = "input-tokens"
    case outputTokens = "output-tokens"
    /// Input plus output tokens.
    case tokens
    /// Money, in US dollars (kept exactly, in picodollars).
    case usd
    /// Model calls sent.
    case calls
    /// Wall-clock time since the scope opened (kept in milliseconds).
    case seconds

    /// The unit a spec or config key names: `tokens`, `input-tokens`,
    /// `input_tokens`, `usd`, `dollars`, `cost`, `calls`, `seconds`, `time`…
    public static func named(_ name: String) -> BudgetUnit? {
        switch name.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "tokens", "total-tokens", "total": return .tokens
        case "input-tokens", "input": return .inputTokens
        case "output-tokens", "output": return .outputTokens
        case "usd", "dollars", "money", "cost": return .usd
        case "calls", "requests": return .calls
        case "seconds", "time": return .seconds
        default: return nil
        }
    }

    /// The unit as users write amounts in it (`tokens`, `USD`, `s`).
    public var shortName: String {
        switch self {
        case .inputTokens: return "input tokens"
        case .outputTokens: return "output tokens"
        case .tokens: return "tokens"
        case .usd: return "USD"
        case .calls: return "calls"
        case .seconds: return "seconds"
        }
    }

    /// Formats an internal amount (picodollars, milliseconds, counts) for people.
    public func format(_ amount: Int64) -> String {
        switch self {
        case .usd: return Money(picodollars: amount).description
        case .seconds: return (Double(amount) / 1000).formatted() + " s"
        default: return "\(amount) \(shortName)"
        }
    }
}

/// An amount in every unit at once, as exact integers: tokens, picodollars,
/// calls and milliseconds. What a call reserves, what a scope has used.
public struct Amounts: Sendable, Equatable, Codable {
    /// Prompt tokens.
    public var inputTokens: Int64 = 0
    /// Output tokens.
    public var outputTokens: Int64 = 0
    /// Money, in millionths of a millionth of a dollar (exact).
    public var picodollars: Int64 = 0
    /// Model calls.
    public var calls: Int64 = 0
    /// Time, in milliseconds.
    public var milliseconds: Int64 = 0

    /// Amounts of each unit.
    public init(inputTokens: Int64 = 0, outputTokens: Int64 = 0, picodollars: Int64 = 0, calls: Int64 = 0,
                milliseconds: Int64 = 0) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.picodollars = picodollars
        self.calls = calls
        self.milliseconds = milliseconds
    }

    /// Prompt and output tokens together.
    public var tokens: Int64 { inputTokens + outputTokens }

    /// The amount in `unit`'s internal scale.
    public subscript(unit: BudgetUnit) -> Int64 {
        switch unit {
        case .inputTokens: return inputTokens
        case .outputTokens: return outputTokens
        case .tokens: return tokens
        case .usd: return picodollars
        case .calls: return calls
        case .seconds: return milliseconds
        }
    }

    /// The sum, unit by unit (saturating, never wrapping).
    public static func + (a: Amounts, b: Amounts) -> Amounts {
        Amounts(inputTokens: a.inputTokens &+ b.inputTokens, outputTokens: a.outputTokens &+ b.outputTokens,
                picodollars: a.picodollars &+ b.picodollars, calls: a.calls &+ b.calls,
                milliseconds: a.milliseconds &+ b.milliseconds)
    }

    /// The difference, unit by unit (saturating).
    public static func - (a: Amounts, b: Amounts) -> Amounts {
        Amounts(inputTokens: a.inputTokens &- b.inputTokens, outputTokens: a.outputTokens &- b.outputTokens,
                picodollars: a.picodollars &- b.picodollars, calls: a.calls &- b.calls,
                milliseconds: a.milliseconds &- b.milliseconds)
    }

    /// Adds `b`.
    public static func += (a: inout Amounts, b: Amounts) { a = a + b }
    /// Subtracts `b`.
    public static func -= (a: inout Amounts, b: Amounts) { a = a - b }
}

extension Int64 {
    /// `self + other`, held at the largest (or smallest) value instead of
    /// overflowing: a huge max-tokens or price must refuse a call, not crash.
    public func adding(saturating other: Int64) -> Int64 {
        let (r, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : r
    }
}

/// Limits per unit, in the internal scale of `Amounts`.
public typealias BudgetLimits = [BudgetUnit: Int64]

extension BudgetLimits {
    /// Converts a human amount (tokens, dollars as exact text, seconds) to the internal scale.
    public static func internalAmount(_ unit: BudgetUnit, _ text: String) -> Int64? {
        switch unit {
        case .usd:
            return Money(dollars: text).map(\.picodollars)
        case .seconds:
            return Double(text).flatMap(CheckedNumber.milliseconds)
        default:
            return Int64(text)
        }
    }
}
