import OmegaCore
/// Which encoding counts a model's tokens, and whether that count is exact.
///
/// OpenAI's models use the encodings Omega implements, so their counts are
/// exact. Other vendors' models (Claude, Llama, Mistral…) have their own
/// tokenizers; Omega counts them with a configured encoding and labels the
/// number an estimate.
public struct ModelEncodings: Sendable {
    /// A rule: a model name, or a prefix ending in `*`, and its encoding.
    public struct Rule: Sendable, Equatable {
        /// A model name, or a prefix ending in `*`.
        public var pattern: String
        /// The encoding its models use.
        public var encoding: String
        /// Models matching `pattern` use `encoding`.
        public init(_ pattern: String, _ encoding: String) {
            self.pattern = pattern
            self.encoding = encoding
        }
        func matches(_ model: String) -> Bool {
            if pattern.hasSuffix("*") { return model.hasPrefix(pattern.dropLast()) }
            return model == pattern
        }
    }

    /// OpenAI's models, most specific first (gpt-4o before gpt-4*).
    public static let openAIRules: [Rule] = [
        Rule("gpt-4o*", "o200k_base"), Rule("chatgpt-4o*", "o200k_base"),
        Rule("gpt-4.1*", "o200k_base"), Rule("gpt-4.5*", "o200k_base"),
        Rule("gpt-5*", "o200k_base"), Rule("gpt-oss*", "o200k_base"),
        Rule("o1*", "o200k_base"), Rule("o3*", "o200k_base"), Rule("o4*", "o200k_base"),
        Rule("codex-*", "o200k_base"),
        Rule("gpt-4*", "cl100k_base"), Rule("gpt-3.5*", "cl100k_base"), Rule("gpt-35*", "cl100k_base"),
        Rule("text-embedding-3*", "cl100k_base"), Rule("text-embedding-ada-002", "cl100k_base"),
    ]

    /// Rules added by configuration; they are consulted before the built-in
    /// ones, and a model they name is counted as exact.
    public var custom: [Rule] = []
    /// The encoding for models no rule names (an estimate).
    public var fallback: String = "o200k_base"

    /// The built-in map only.
    public init() {}

    /// The encoding for `model` and whether its counts are exact.
    ///
    /// Provider prefixes (`openai/gpt-4o`, `azure/…`) and fine-tune names
    /// (`ft:gpt-4o-mini:org::id`) resolve to their base model.
    public func resolve(_ model: String) -> (encoding: String, exact: Bool) {
        let name = ModelEncodings.baseName(model)
        if let rule = custom.first(where: { $0.matches(name) || $0.matches(model) }) { return (rule.encoding, true) }
        if let rule = ModelEncodings.openAIRules.first(where: { $0.matches(name) }) { return (rule.encoding, true) }
        return (fallback, false)
    }

    /// `model` without a provider prefix or fine-tune decoration, lowercased.
    public static func baseName(_ model: String) -> String {
        var m = model.lowercased()
        if m.hasPrefix("ft:") {
            m.removeFirst(3)
            if let colon = m.firstIndex(of: ":") { m = String(m[..<colon]) }
        }
        for prefix in ["openai/", "azure/", "openrouter/openai/"] where m.hasPrefix(prefix) {
            m.removeFirst(prefix.count)
        }
        return m
    }
}
