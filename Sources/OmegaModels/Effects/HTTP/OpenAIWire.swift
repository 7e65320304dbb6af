import Foundation

/// Chat Completions on the wire: the request Omega sends and the replies
/// and stream chunks it reads. Replies are read leniently — a field of the
/// wrong type is absent, not a failure — and the meter decides what missing
/// usage means.
enum OpenAIWire {
    struct Message: Codable, Sendable {
        var role: String?
        var content: String?
        var name: String?
    }

    struct StreamOptions: Encodable { var includeUsage = true
        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    struct Request: Encodable {
        var model: String
        var messages: [Message]
        var maxTokens: Int?
        var maxCompletionTokens: Int?
        var temperature: Double?
        var stop: [String]?
        var stream: Bool?
        var streamOptions: StreamOptions?

        enum CodingKeys: String, CodingKey {
            case model, messages, temperature, stop, stream
            case maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens", streamOptions = "stream_options"
        }
    }

    struct Usage: Decodable {
        var promptTokens: Int?
        var completionTokens: Int?
        var cachedTokens = 0
        var reasoningTokens = 0

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens", completionTokens = "completion_tokens"
            case promptDetails = "prompt_tokens_details", completionDetails = "completion_tokens_details"
        }
        enum DetailKeys: String, CodingKey { case cachedTokens = "cached_tokens", reasoningTokens = "reasoning_tokens" }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            promptTokens = c.count(.promptTokens)
            completionTokens = c.count(.completionTokens)
            if let d = try? c.nestedContainer(keyedBy: DetailKeys.self, forKey: .promptDetails) { cachedTokens = d.count(.cachedTokens) ?? 0 }
            if let d = try? c.nestedContainer(keyedBy: DetailKeys.self, forKey: .completionDetails) { reasoningTokens = d.count(.reasoningTokens) ?? 0 }
        }
    }

    struct Choice: Decodable {
        var message: Message?
        var delta: Message?
        var finishReason: String?

        enum CodingKeys: String, CodingKey { case message, delta, finishReason = "finish_reason" }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            message = c.lenient(Message.self, .message)
            delta = c.lenient(Message.self, .delta)
            finishReason = c.lenient(String.self, .finishReason)
        }
    }

    /// A whole reply, or one chunk of a stream.
    struct Reply: Decodable {
        var model: String?
        var choices: [Choice]?
        var usage: Usage?
        var error: JSONValue?

        enum CodingKeys: String, CodingKey { case model, choices, usage, error }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            model = c.lenient(String.self, .model)
            choices = c.lenient([Choice].self, .choices)
            usage = c.lenient(Usage.self, .usage)
            error = c.lenient(JSONValue.self, .error)
        }
    }
}

/// An error body as servers send it: `{"error": {"message": …, "type": …}}`,
/// `{"error": "…"}` or `{"message": …}`.
struct WireErrorReply: Decodable {
    var error: JSONValue?
    var message: String?

    enum CodingKeys: String, CodingKey { case error, message }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        error = c.lenient(JSONValue.self, .error)
        message = c.lenient(String.self, .message)
    }

    /// The message it carries, if it carries one.
    var text: String? {
        switch error {
        case .object(let o)?:
            if case .string(let m)? = o["message"] {
                if case .string(let t)? = o["type"] { return "\(m) [\(t)]" }
                return m
            }
        case .string(let m)?: return m
        default: break
        }
        return message
    }
}
