import Foundation

/// Any JSON value, for what Omega passes through without interpreting: the
/// provider fields a call adds to its request body (`'provider-fields`), and
/// options that only handlers read.
public enum JSONValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .integer(let i): try c.encode(i)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// Compact JSON with sorted keys (stable: request keys and hashes use it).
    public var description: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}

/// A request body: the provider's own fields, typed, with the call's
/// `'provider-fields` laid over them at the top level.
struct WireBody<Fields: Encodable>: Encodable {
    let fields: Fields
    let extra: [String: JSONValue]

    func encode(to encoder: Encoder) throws {
        try fields.encode(to: encoder)
        guard !extra.isEmpty else { return }
        var c = encoder.container(keyedBy: AnyKey.self)
        for (k, v) in extra { try c.encode(v, forKey: AnyKey(k)) }
    }

    /// The body as bytes.
    func data() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data()
    }
}

/// A coding key made from any string.
struct AnyKey: CodingKey {
    let stringValue: String
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

/// A token count as a server reports it: an integer, or a number that is
/// not one (a fraction is cut; beyond Int's range it is clamped, so 1e30
/// tokens is seen as absurd rather than wrapped; anything else is absent).
/// Never fails the reply it is part of.
struct WireCount: Decodable, Sendable {
    let value: Int?

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) { value = i; return }
        if let d = try? c.decode(Double.self), !d.isNaN {
            value = d >= 9.2e18 ? Int.max : d <= -9.2e18 ? Int.min : Int(d.rounded(.towardZero))
            return
        }
        value = nil
    }
}

extension KeyedDecodingContainer {
    /// The value at `key` when it is there and of the right type, else nil:
    /// a reply with one odd field is still read for what it does say.
    func lenient<T: Decodable>(_ type: T.Type, _ key: Key) -> T? {
        (try? decodeIfPresent(T.self, forKey: key)) ?? nil
    }

    /// A token count at `key` (see `WireCount`).
    func count(_ key: Key) -> Int? { lenient(WireCount.self, key)?.value }
}

/// Decodes a reply's bytes as `T`, or nil when they are not that JSON.
func decodeWire<T: Decodable>(_ type: T.Type, _ data: Data) -> T? {
    try? JSONDecoder().decode(T.self, from: data)
}
