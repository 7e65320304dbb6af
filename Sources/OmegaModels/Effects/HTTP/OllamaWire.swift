import Foundation

/// Ollama's /api/chat on the wire: the request, and the reply (whole, or
/// one JSON object per line when streaming), read leniently.
enum OllamaWire {
    struct Message: Encodable {
        var role: String
        var content: String
    }

    struct Options: Encodable {
        var numPredict: Int
        var temperature: Double?
        var stop: [String]?
        enum CodingKeys: String, CodingKey { case temperature, stop, numPredict = "num_predict" }
    }

    struct Request: Encodable {
        var model: String
        var stream: Bool
        var options: Options
        var messages: [Message]
    }

    struct ReplyMessage: Decodable {
        var content: String?
        enum CodingKeys: String, CodingKey { case content }
        init(from decoder: Decoder) throws {
            content = try decoder.container(keyedBy: CodingKeys.self).lenient(String.self, .content)
        }
    }

    /// A whole reply, or one line of a stream (the last says `done`).
    struct Reply: Decodable {
        var message: ReplyMessage?
        var done: Bool?
        var doneReason: String?
        var model: String?
        var promptEvalCount: Int?
        var evalCount: Int?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case message, done, model, error
            case doneReason = "done_reason", promptEvalCount = "prompt_eval_count", evalCount = "eval_count"
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            message = c.lenient(ReplyMessage.self, .message)
            done = c.lenient(Bool.self, .done)
            doneReason = c.lenient(String.self, .doneReason)
            model = c.lenient(String.self, .model)
            promptEvalCount = c.count(.promptEvalCount)
            evalCount = c.count(.evalCount)
            error = c.lenient(String.self, .error)
        }
    }
}
