import Foundation

/// Anthropic's Messages API on the wire: the request, the reply, and the
/// events of a stream, read leniently (see `OpenAIWire`).
enum AnthropicWire {
    struct Message: Encodable {
        var role: String
        var content: String
    }

    struct Request: Encodable {
        var model: String
        var maxTokens: Int
        var messages: [Message]
        var system: String?
        var temperature: Double?
        var stopSequences: [String]?
        var stream: Bool?

        enum CodingKeys: String, CodingKey {
            case model, messages, system, temperature, stream
            case maxTokens = "max_tokens", stopSequences = "stop_sequences"
        }
    }

    /// Usage as reported; a stream reports it in parts (`message_start`,
    /// then `message_delta`), each laid over the last.
    struct Usage: Decodable {
        var inputTokens: Int?
        var outputTokens: Int?
        var cacheReadTokens: Int?
        var cacheWriteTokens: Int?

        enum CodingKeys: String, CodingKey {
            case inputTokens = "input_tokens", outputTokens = "output_tokens"
            case cacheReadTokens = "cache_read_input_tokens", cacheWriteTokens = "cache_creation_input_tokens"
        }

        init() {}

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            inputTokens = c.count(.inputTokens)
            outputTokens = c.count(.outputTokens)
            cacheReadTokens = c.count(.cacheReadTokens)
            cacheWriteTokens = c.count(.cacheWriteTokens)
        }

        /// These numbers, with the later report's where it has them.
        func merged(with later: Usage?) -> Usage {
            guard let later else { return self }
            var u = self
            u.inputTokens = later.inputTokens ?? inputTokens
            u.outputTokens = later.outputTokens ?? outputTokens
            u.cacheReadTokens = later.cacheReadTokens ?? cacheReadTokens
            u.cacheWriteTokens = later.cacheWriteTokens ?? cacheWriteTokens
            return u
        }
    }

    struct ContentBlock: Decodable {
        var type: String?
        var text: String?
        enum CodingKeys: String, CodingKey { case type, text }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = c.lenient(String.self, .type)
            text = c.lenient(String.self, .text)
        }
    }

    /// A whole message.
    struct Reply: Decodable {
        var content: [ContentBlock]?
        var stopReason: String?
        var usage: Usage?
        var model: String?

        enum CodingKeys: String, CodingKey { case content, model, usage, stopReason = "stop_reason" }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            content = c.lenient([ContentBlock].self, .content)
            stopReason = c.lenient(String.self, .stopReason)
            usage = c.lenient(Usage.self, .usage)
            model = c.lenient(String.self, .model)
        }
    }

    struct Delta: Decodable {
        var text: String?
        var stopReason: String?
        enum CodingKeys: String, CodingKey { case text, stopReason = "stop_reason" }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            text = c.lenient(String.self, .text)
            stopReason = c.lenient(String.self, .stopReason)
        }
    }

    /// One event of a stream.
    struct Event: Decodable {
        var type: String?
        var message: Reply?
        var delta: Delta?
        var usage: Usage?

        enum CodingKeys: String, CodingKey { case type, message, delta, usage }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = c.lenient(String.self, .type)
            message = c.lenient(Reply.self, .message)
            delta = c.lenient(Delta.self, .delta)
            usage = c.lenient(Usage.self, .usage)
        }
    }
}
