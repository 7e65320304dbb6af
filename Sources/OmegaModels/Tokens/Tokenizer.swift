import Foundation
import OmegaCore

/// What can go wrong when loading a tokenizer or encoding text.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// No verified rank file was found; `rejected` lists files refused on the way.
    case ranksNotFound(String, rejected: [String])
    /// A rank file is corrupt or has the wrong checksum.
    case damagedRankFile(String)
    /// The text contains a special token that was not allowed.
    case disallowedSpecialToken(String)
    /// A token id that is neither a rank nor a special token.
    case unknownToken(Int)
    /// An encoding Omega does not know.
    case unknownEncoding(String)

    public var description: String {
        switch self {
        case .ranksNotFound(let name, let rejected):
            var s = "no tokenizer file for \(name) (\(RankFiles.installHint))"
            if !rejected.isEmpty { s += "; refused: " + rejected.joined(separator: "; ") }
            return s
        case .damagedRankFile(let why): return "bad tokenizer file: \(why)"
        case .disallowedSpecialToken(let t):
            return "the text contains the special token \(t); allow it explicitly or count it as ordinary text"
        case .unknownToken(let id): return "no token has the id \(id)"
        case .unknownEncoding(let name):
            return "unknown encoding \(name) (known: \(EncodingSpec.all.map(\.name).joined(separator: ", ")))"
        }
    }
}

extension RankFiles {
    /// One line telling a user how to get the rank files.
    public static let installHint = "run scripts/setup, or put cl100k_base.tiktoken(.gz) and o200k_base.tiktoken(.gz) in $OMEGA_TOKENIZER_DIR"
}

/// How `Tokenizer.encode` treats special tokens such as `<|endoftext|>` that
/// appear in the text (tiktoken's `allowed_special` / `disallowed_special`).
public enum SpecialTokens: Sendable, Equatable {
    /// Any special token in the text is an error (tiktoken's default).
    case disallowed
    /// These become their special ids; any other special token is an error.
    case allowed(Set<String>)
    /// Every special token becomes its id.
    case allowedAll
    /// Special tokens are ordinary text (tiktoken's `encode_ordinary`).
    case ordinary
}

/// A tiktoken-compatible byte-pair encoder for one encoding. Immutable and
/// safe to share between threads.
public final class Tokenizer: Sendable {
    /// The encoding this tokenizer implements.
    public let encoding: EncodingSpec
    /// The rank file it was loaded from (nil when built from ranks in memory).
    public let source: URL?
    let ranks: RankTable
    private let specialIds: [Int: String]

    init(encoding: EncodingSpec, ranks: RankTable, source: URL?) {
        self.encoding = encoding
        self.ranks = ranks
        self.source = source
        self.specialIds = Dictionary(uniqueKeysWithValues: encoding.specialTokens.map { ($1, $0) })
    }

    /// Loads `encoding` from the first verified rank file `files` finds.
    public convenience init(_ encoding: EncodingSpec, files: RankFiles = RankFiles()) throws {
        let found = try files.load(encoding)
        self.init(encoding: encoding, ranks: found.table, source: found.source)
    }

    /// The token ids of `text`. Throws only for a special token `special` does
    /// not allow.
    public func encode(_ text: String, special: SpecialTokens = .disallowed) throws -> [Int] {
        var text = text
        if special == .ordinary { return encodeOrdinary(text) }
        let allowed: Set<String>
        switch special {
        case .allowed(let set): allowed = set
        case .allowedAll: allowed = Set(encoding.specialTokens.keys)
        default: allowed = []
        }
        // Split at allowed specials; any other special is an error.
        var out: [Int] = []
        return try text.withUTF8 { buffer -> [Int] in
            var segmentStart = 0
            var i = 0
            while i < buffer.count {
                if buffer[i] == 0x3C, let (token, length) = specialToken(at: i, in: buffer) {
                    guard allowed.contains(token) else { throw TokenizerError.disallowedSpecialToken(token) }
                    encodeOrdinary(UnsafeBufferPointer(rebasing: buffer[segmentStart..<i]), into: &out)
                    out.append(encoding.specialTokens[token]!)
                    i += length
                    segmentStart = i
                } else {
                    i += 1
                }
            }
            encodeOrdinary(UnsafeBufferPointer(rebasing: buffer[segmentStart..<buffer.count]), into: &out)
            return out
        }
    }

    /// The special token starting at byte `i`, if any.
    private func specialToken(at i: Int, in buffer: UnsafeBufferPointer<UInt8>) -> (String, Int)? {
        for token in encoding.specialTokens.keys {
            let bytes = token.utf8
            guard i + bytes.count <= buffer.count else { continue }
            if zip(bytes, buffer[i..<(i + bytes.count)]).allSatisfy({ $0 == $1 }) { return (token, bytes.count) }
        }
        return nil
    }

    /// The token ids of `text`, special tokens counted as ordinary text.
    public func encodeOrdinary(_ text: String) -> [Int] {
        var text = text
        var out: [Int] = []
        out.reserveCapacity(text.utf8.count / 3)
        text.withUTF8 { encodeOrdinary($0, into: &out) }
        return out
    }

    /// The token ids of UTF-8 `bytes`; invalid sequences become U+FFFD first,
    /// as Python's `decode("utf-8", "replace")` would make them.
    public func encodeOrdinary(bytes: [UInt8]) -> [Int] {
        encodeOrdinary(String(decoding: bytes, as: UTF8.self))
    }

    /// How many tokens `text` is (special tokens counted as ordinary text).
    public func count(_ text: String) -> Int {
        encodeOrdinary(text).count
    }

    func encodeOrdinary(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Int]) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        let splitter = PreTokenizer(pattern: encoding.pattern, text: text)
        var bpe = BytePairEncoder(ranks: ranks)
        var i = 0
        while i < text.count {
            let end = splitter.pieceEnd(from: i)
            bpe.encode(base + i, end - i, into: &out)
            i = end
        }
    }

    /// The bytes of `ids` joined (tiktoken's `decode_bytes`).
    public func decodeBytes(_ ids: [Int]) throws -> [UInt8] {
        var out: [UInt8] = []
        for id in ids {
            if let b = ranks.bytes(of: id) {
                out.append(contentsOf: b)
            } else if let special = specialIds[id] {
                out.append(contentsOf: special.utf8)
            } else {
                throw TokenizerError.unknownToken(id)
            }
        }
        return out
    }

    /// The text of `ids`; bytes that do not form UTF-8 become U+FFFD
    /// (tiktoken's `decode` with `errors="replace"`).
    public func decode(_ ids: [Int]) throws -> String {
        String(decoding: try decodeBytes(ids), as: UTF8.self)
    }
}
