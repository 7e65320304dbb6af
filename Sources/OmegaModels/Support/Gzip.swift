import CZlib
import Foundation
import OmegaCore

/// Decompression of gzip (and zlib) data through the system zlib.
enum Gzip {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// True when `data` starts with the gzip magic number.
    static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    /// The decompressed bytes of a gzip or zlib stream; throws on damaged data.
    static func decompress(_ data: Data) throws -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 32: let zlib detect a gzip or a zlib header.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        output.reserveCapacity(data.count * 4)
        let chunk = 1 << 18
        var buffer = [UInt8](repeating: 0, count: chunk)
        var status: Int32 = Z_OK
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            guard let base = input.baseAddress else { return }
            stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            repeat {
                let produced: Int = buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return chunk - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw Failure(description: "damaged gzip data (\(reason))")
                }
                output.append(contentsOf: buffer[0..<produced])
                if status == Z_OK && produced == 0 && stream.avail_in == 0 {
                    throw Failure(description: "gzip data ends too early")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
