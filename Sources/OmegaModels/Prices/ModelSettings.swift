import Foundation
import OmegaCore

/// What an interpreter knows about models: which one to use by default, what
/// each costs, how to count its tokens, and how time converts to money.
/// A host or the `omega` command fills it from configuration.
public struct ModelSettings: Sendable {
    /// The model used when a call or a procedure names none.
    public var defaultModel: String
    /// Prices per model.
    public var prices: PriceTable
    /// Counts tokens: a counter of these settings' own (the rank tables it
    /// loads are shared by the whole process).
    public var tokens: TokenCounter
    /// The time → money → tokens scale.
    public var conversions: BudgetConversions

    /// The model used when nothing names one.
    public static let defaultModelName = "gpt-4o-mini"

    /// Defaults: `$OMEGA_MODEL` or gpt-4o-mini, the built-in prices, a new
    /// counter with the default encodings, 4 hours = $10.
    public init(defaultModel: String? = nil, prices: PriceTable = .builtIn,
                tokens: TokenCounter = TokenCounter(), conversions: BudgetConversions = BudgetConversions()) {
        let env = ProcessEnvironment.value("OMEGA_MODEL").flatMap { $0.isEmpty ? nil : $0 }
        self.defaultModel = defaultModel ?? env ?? ModelSettings.defaultModelName
        self.prices = prices
        self.tokens = tokens
        self.conversions = conversions
    }

    /// Settings from a configuration file: its prices, encodings and scale.
    /// The default model: `defaultModel` (a flag), else `$OMEGA_MODEL`, else
    /// the file's `model`, else gpt-4o-mini.
    public init(configuration: Configuration, defaultModel: String? = nil) throws {
        let env = ProcessEnvironment.value("OMEGA_MODEL").flatMap { $0.isEmpty ? nil : $0 }
        let configured = try configuration.string("model")
        self.init(defaultModel: defaultModel ?? env ?? configured, prices: try configuration.prices(),
                  conversions: try configuration.conversions())
        tokens.models = try configuration.modelEncodings()
    }
}

import Foundation
