import Foundation
import OmegaCore

/// A token count and how far to trust it.
public struct TokenCount: Sendable, Equatable, CustomStringConvertible {
    /// The number of tokens.
    public var tokens: Int
    /// True when the count is what the model's own tokenizer gives.
    public var exact: Bool
    /// The encoding counted with, or nil when no tokenizer was available.
    public var encoding: String?
    /// Why the count is an estimate (nil when exact).
    public var note: String?

    /// A count, exact or a labelled estimate.
    public init(tokens: Int, exact: Bool, encoding: String?, note: String?) {
        self.tokens = tokens
        self.exact = exact
        self.encoding = encoding
        self.note = note
    }

    public var description: String {
        exact ? "\(tokens)" : "~\(tokens) (estimate: \(note ?? "approximate"))"
    }
}

/// One message of a chat prompt, for counting a whole message list.
public struct ChatMessage: Sendable, Equatable {
    /// `system`, `user` or `assistant`.
    public var role: String
    /// The message's text.
    public var content: String
    /// A participant's name, when the API takes one.
    public var name: String?
    /// A chat message.
    public init(role: String, content: String, name: String? = nil) {
        self.role = role
        self.content = content
        self.name = name
    }
}

/// Counts tokens for models: picks the encoding, loads its tokenizer once
/// (lazily, on first use), and falls back to a labelled estimate when the
/// rank files are not installed.
///
/// Each interpreter's settings have a counter of their own (its model →
/// encoding map is configuration); only the loaded tokenizers — immutable,
/// checksum-verified rank tables — are shared by the whole process.
public final class TokenCounter: @unchecked Sendable {
    /// Where rank files are looked for.
    public let files: RankFiles
    private let lock = NSLock()
    private var loaded: [String: Result<Tokenizer, TokenizerError>] = [:]
    private var _models = ModelEncodings()
    /// Models already resolved (every metered call asks for its model's encoding).
    private var resolved: [String: (encoding: String, exact: Bool)] = [:]

    /// The model → encoding map (configurable).
    public var models: ModelEncodings {
        get { lock.lock(); defer { lock.unlock() }; return _models }
        set { lock.lock(); _models = newValue; resolved = [:]; lock.unlock() }
    }

    /// `models.resolve(model)`, remembered per model name.
    func resolve(_ model: String) -> (encoding: String, exact: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if let r = resolved[model] { return r }
        let r = _models.resolve(model)
        if resolved.count < 10_000 { resolved[model] = r }
        return r
    }

    /// A counter looking for rank files in `files`.
    public init(files: RankFiles = RankFiles()) {
        self.files = files
    }

    /// The tokenizer for `encoding`, loading it on first use (once per
    /// process for the same rank-file search).
    public func tokenizer(_ encoding: EncodingSpec) -> Result<Tokenizer, TokenizerError> {
        lock.lock()
        defer { lock.unlock() }
        if let r = loaded[encoding.name] { return r }
        let r = LoadedTokenizers.shared.tokenizer(encoding, files: files)
        loaded[encoding.name] = r
        return r
    }

    /// The tokenizer for the encoding called `name`.
    public func tokenizer(named name: String) -> Result<Tokenizer, TokenizerError> {
        guard let spec = EncodingSpec.named(name) else { return .failure(.unknownEncoding(name)) }
        return tokenizer(spec)
    }

    /// The estimate used when no tokenizer is available: characters ÷ 4, rounded up.
    public static func estimate(_ text: String) -> Int {
        (text.unicodeScalars.count + 3) / 4
    }

    /// Counts `text` with `encoding` (special tokens as ordinary text).
    public func count(_ text: String, encoding: EncodingSpec) -> TokenCount {
        switch tokenizer(encoding) {
        case .success(let t):
            return TokenCount(tokens: t.count(text), exact: true, encoding: encoding.name, note: nil)
        case .failure(let e):
            return TokenCount(tokens: TokenCounter.estimate(text), exact: false, encoding: nil,
                              note: "characters ÷ 4; \(e)")
        }
    }

    /// Counts `text` as `model` would see it; other vendors' models are
    /// labelled estimates.
    public func count(_ text: String, model: String) -> TokenCount {
        let (name, exact) = resolve(model)
        guard let spec = EncodingSpec.named(name) else {
            return TokenCount(tokens: TokenCounter.estimate(text), exact: false, encoding: nil,
                              note: "characters ÷ 4; unknown encoding \(name) configured for \(model)")
        }
        var c = count(text, encoding: spec)
        if c.exact && !exact {
            c.exact = false
            c.note = "\(model) has its own tokenizer; counted with \(spec.name)"
        }
        return c
    }

    /// Tokens a chat request costs: every message's role, content and name,
    /// plus OpenAI's framing (3 per message, 1 per name, 3 to prime the reply),
    /// as in OpenAI's cookbook for current chat models.
    public func count(messages: [ChatMessage], model: String) -> TokenCount {
        var total = TokenCount(tokens: 3, exact: true, encoding: nil, note: nil)
        for m in messages {
            total.tokens += 3
            for part in [m.role, m.content] + (m.name.map { [$0] } ?? []) {
                let c = count(part, model: model)
                total.tokens += c.tokens
                total.encoding = c.encoding
                if !c.exact { total.exact = false; total.note = c.note }
            }
            if m.name != nil { total.tokens += 1 }
        }
        return total
    }
}

/// The tokenizers loaded in this process, by encoding and the places its
/// rank file was searched for: loading and verifying a rank table costs
/// tens of milliseconds, and a loaded one never changes.
final class LoadedTokenizers: @unchecked Sendable {
    static let shared = LoadedTokenizers()
    private let lock = NSLock()
    private var loaded: [String: Result<Tokenizer, TokenizerError>] = [:]

    func tokenizer(_ encoding: EncodingSpec, files: RankFiles) -> Result<Tokenizer, TokenizerError> {
        let key = encoding.name + "|" + files.candidates(for: encoding).map(\.path).joined(separator: ":")
        lock.lock()
        defer { lock.unlock() }
        if let r = loaded[key] { return r }
        let r: Result<Tokenizer, TokenizerError>
        do {
            r = .success(try Tokenizer(encoding, files: files))
        } catch let e as TokenizerError {
            r = .failure(e)
        } catch {
            r = .failure(.damagedRankFile("\(error)"))
        }
        // A missing file may be installed later (scripts/setup): only successes are kept.
        if case .success = r { loaded[key] = r }
        return r
    }
}
