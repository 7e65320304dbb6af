import Foundation
import OmegaCore

/// Reading LiteLLM's `model_prices_and_context_window.json`, the price map
/// many users already have, into a `PriceTable`.
extension PriceTable {
    /// Reads LiteLLM's price file at `url`. Entries without a per-token input
    /// and output price (images, audio, rerank…) are skipped.
    public init(liteLLMFile url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PriceError.badFile("\(url.path): cannot read the LiteLLM price file (\(error.localizedDescription))")
        }
        try self.init(liteLLMJSON: data, source: url.path)
    }

    /// Reads LiteLLM's price map from JSON `data`; `source` names it in errors.
    public init(liteLLMJSON data: Data, source: String) throws {
        self.init()
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw PriceError.badFile("\(source): not valid JSON (\(error.localizedDescription))")
        }
        guard let models = root as? [String: Any] else {
            throw PriceError.badFile("\(source): expected a JSON object of models")
        }
        for (name, value) in models where name != "sample_spec" {
            guard let entry = value as? [String: Any],
                  let input = PriceTable.money(entry["input_cost_per_token"]),
                  let output = PriceTable.money(entry["output_cost_per_token"]) else { continue }
            set(ModelPrice(
                model: name,
                provider: (entry["litellm_provider"] as? String) ?? "openai",
                input: input, output: output,
                cacheRead: PriceTable.money(entry["cache_read_input_token_cost"]),
                cacheWrite: PriceTable.money(entry["cache_creation_input_token_cost"]),
                contextWindow: PriceTable.positive(entry["max_input_tokens"]),
                maxOutputTokens: PriceTable.positive(entry["max_output_tokens"] ?? entry["max_tokens"]),
                source: source))
        }
    }

    /// A USD-per-token JSON number as exact money. The number's shortest
    /// decimal form is parsed exactly; one with more than 12 decimals of a
    /// dollar is rounded to the nearest picodollar.
    static func money(_ any: Any?) -> Money? {
        guard let n = any as? NSNumber, !(any is Bool) else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d >= 0, d < 1000 else { return nil }
        if let exact = Money(dollars: "\(d)") { return exact }
        return Money(picodollars: Int64((d * 1e12).rounded()))
    }

    static func positive(_ any: Any?) -> Int? {
        guard let n = any as? NSNumber, !(any is Bool) else { return nil }
        let v = n.intValue
        return v > 0 ? v : nil
    }
}
