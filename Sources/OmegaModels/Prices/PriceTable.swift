import Foundation
import OmegaCore

/// What one model costs and how much it can take.
public struct ModelPrice: Sendable, Equatable {
    /// The model's name as the table keys it.
    public var model: String
    /// Who serves it (`openai`, `anthropic`, `groq`…); decides the cost formula.
    public var provider: String
    /// Price of one input token.
    public var input: Money
    /// Price of one output token (reasoning tokens are output tokens).
    public var output: Money
    /// Price of one input token read from the provider's prompt cache.
    public var cacheRead: Money?
    /// Price of one input token written to the provider's prompt cache.
    public var cacheWrite: Money?
    /// The context window in tokens, when known.
    public var contextWindow: Int?
    /// The most output tokens one call may produce, when known.
    public var maxOutputTokens: Int?
    /// Where this price came from (`built-in 2026-11-22`, a file path).
    public var source: String

    /// A price per million tokens of each kind.
    public init(model: String, provider: String, input: Money, output: Money, cacheRead: Money? = nil,
                cacheWrite: Money? = nil, contextWindow: Int? = nil, maxOutputTokens: Int? = nil, source: String) {
        self.model = model
        self.provider = provider
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
        self.contextWindow = contextWindow
        self.maxOutputTokens = maxOutputTokens
        self.source = source
    }

    /// Whether this provider's input count includes cached tokens (OpenAI and
    /// the OpenAI-compatible ones) or excludes them (Anthropic).
    public var inputIncludesCachedTokens: Bool {
        !provider.lowercased().hasPrefix("anthropic") && !provider.lowercased().hasPrefix("bedrock")
    }

    /// The exact cost of `usage` under this provider's convention.
    ///
    /// OpenAI: `inputTokens` includes `cacheReadTokens`; those are billed at
    /// the cache-read price and the rest at the input price. Anthropic:
    /// `inputTokens` excludes cache reads and writes, which are billed
    /// separately. A missing cache price falls back to the input price.
    public func cost(of usage: TokenUsage) throws -> Money {
        var total = try output.times(usage.outputTokens)
        let readPrice = cacheRead ?? input, writePrice = cacheWrite ?? input
        if inputIncludesCachedTokens {
            let cached = min(usage.cacheReadTokens, usage.inputTokens)
            total = try Money.sum(total, try input.times(usage.inputTokens - cached))
            total = try Money.sum(total, try readPrice.times(cached))
            total = try Money.sum(total, try writePrice.times(usage.cacheWriteTokens))
        } else {
            total = try Money.sum(total, try input.times(usage.inputTokens))
            total = try Money.sum(total, try readPrice.times(usage.cacheReadTokens))
            total = try Money.sum(total, try writePrice.times(usage.cacheWriteTokens))
        }
        return total
    }
}

/// Tokens one call used, as the provider reported them.
public struct TokenUsage: Sendable, Equatable {
    /// Prompt tokens, in the provider's own convention (see `ModelPrice.cost`).
    public var inputTokens: Int
    /// Completion tokens, reasoning included.
    public var outputTokens: Int
    /// Prompt tokens read from the cache.
    public var cacheReadTokens: Int
    /// Prompt tokens written to the cache.
    public var cacheWriteTokens: Int
    /// Of the output tokens, how many the model spent reasoning (already in
    /// `outputTokens`, so not priced again).
    public var reasoningTokens: Int

    /// Usage of each kind of token.
    public init(inputTokens: Int, outputTokens: Int, cacheReadTokens: Int = 0, cacheWriteTokens: Int = 0,
                reasoningTokens: Int = 0) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.reasoningTokens = reasoningTokens
    }
}

/// Why a price could not be found or read.
public enum PriceError: Error, CustomStringConvertible, Equatable {
    /// The model has no price and no default was configured.
    case unknownModel(String)
    /// A price file could not be read; the message names file and line.
    case badFile(String)

    public var description: String {
        switch self {
        case .unknownModel(let m):
            return "no price for model \(m): add one under [prices.models.\"\(m)\"] in .omega/config.toml "
                + "(input and output in USD per million tokens), point prices.litellm at LiteLLM's "
                + "model_prices_and_context_window.json, or set prices.default to price unknown models"
        case .badFile(let why): return why
        }
    }
}

/// Model prices: the built-in table, merged with what the user adds.
public struct PriceTable: Sendable {
    private var entries: [String: ModelPrice] = [:]
    private var aliases: [String: String] = [:]
    /// Used for models not in the table, when the user opted into it.
    public var defaultPrice: ModelPrice?

    /// An empty table.
    public init() {}

    /// All priced model names, sorted.
    public var models: [String] { entries.keys.sorted() }

    /// Adds or replaces one model's price.
    public mutating func set(_ price: ModelPrice) {
        entries[price.model.lowercased()] = price
    }

    /// Makes `alias` name the same price as `model`.
    public mutating func alias(_ alias: String, to model: String) {
        aliases[alias.lowercased()] = model.lowercased()
    }

    /// Adds every price of `other`, replacing prices of the same model.
    public mutating func merge(_ other: PriceTable) {
        for (k, v) in other.entries { entries[k] = v }
        for (k, v) in other.aliases { aliases[k] = v }
        if let d = other.defaultPrice { defaultPrice = d }
    }

    /// The price of `model`, or nil. Tries the name as given, then without a
    /// provider prefix (`openai/`, `anthropic/`, `groq/`), then without a date
    /// suffix (`gpt-4o-2024-08-06` → `gpt-4o`, `claude-haiku-4-5-20251001`).
    public func price(for model: String) -> ModelPrice? {
        if let p = entries[model] { return p }   // the common case, without allocating
        for name in PriceTable.namesToTry(model.lowercased()) {
            if let p = entries[name] { return p }
            if let target = aliases[name], let p = entries[target] { return p }
        }
        return nil
    }

    /// Known model names nearest to an unknown one (`gtp-4o` → `gpt-4o`), at
    /// most `limit`, nearest first; empty when `model` has a price.
    public func suggestions(for model: String, limit: Int = 3) -> [String] {
        guard price(for: model) == nil else { return [] }
        let wanted = Array(model.lowercased())
        guard !wanted.isEmpty else { return [] }
        let candidates = Set(entries.keys).union(aliases.keys)
        var scored: [(name: String, distance: Int)] = []
        for name in candidates {
            let d = PriceTable.editDistance(wanted, Array(name), cap: 4)
            if d <= max(2, wanted.count / 4) { scored.append((name, d)) }
            else if name.hasPrefix(model.lowercased()) { scored.append((name, 3)) }
        }
        return scored.sorted { $0.distance != $1.distance ? $0.distance < $1.distance : $0.name < $1.name }
            .prefix(limit).map(\.name)
    }

    /// Levenshtein distance, stopping early once every path exceeds `cap`.
    static func editDistance(_ a: [Character], _ b: [Character], cap: Int) -> Int {
        if abs(a.count - b.count) > cap { return cap + 1 }
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            var best = current[0]
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                best = min(best, current[j])
            }
            if best > cap { return cap + 1 }
            previous = current
        }
        return previous[b.count]
    }

    /// What to say about a model Omega has no price for: ` (did you mean gpt-4o?)`, or nothing.
    public func didYouMean(_ model: String) -> String {
        let s = suggestions(for: model)
        return s.isEmpty ? "" : " (did you mean \(s.joined(separator: ", "))?)"
    }

    /// The price of `model`, the default price if one was configured, or an
    /// error that says how to add one.
    public func requirePrice(for model: String) throws -> ModelPrice {
        if let p = price(for: model) { return p }
        if var d = defaultPrice {
            d.model = model
            return d
        }
        throw PriceError.unknownModel(model)
    }

    static func namesToTry(_ model: String) -> [String] {
        var names = [model]
        var m = model
        if let slash = m.firstIndex(of: "/") {
            m = String(m[m.index(after: slash)...])
            names.append(m)
        }
        // Dated snapshots: -YYYY-MM-DD or -YYYYMMDD at the end.
        let parts = m.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count > 3, parts.suffix(3).allSatisfy({ $0.allSatisfy(\.isNumber) }),
           parts[parts.count - 3].count == 4 {
            names.append(parts.dropLast(3).joined(separator: "-"))
        } else if parts.count > 1, let last = parts.last, last.count == 8, last.allSatisfy(\.isNumber) {
            names.append(parts.dropLast().joined(separator: "-"))
        }
        return names
    }
}
