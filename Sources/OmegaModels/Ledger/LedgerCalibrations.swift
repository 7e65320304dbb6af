import Foundation
import OmegaCore

/// What the ledger remembers of each backend's and model's billing, so that
/// the next run reserves with a calibrated bound from its first call.
extension Ledger {
    /// The stored calibration of `backend` and `model`, if any.
    public func calibration(backend: String, model: String) throws -> InputBounds.Calibration? {
        try locked {
            var found: InputBounds.Calibration?
            try db.query("SELECT ratio, residual, ratio_residual, observations FROM calibrations WHERE backend = ? AND model = ?",
                         [.text(backend), .text(model)]) { r in
                found = InputBounds.Calibration(ratio: r.double(0), residual: Int(r.int(1)), ratioResidual: Int(r.int(2)),
                                                observations: Int(r.int(3)))
            }
            return found
        }
    }

    /// Stores a calibration. Several processes may learn at once: each
    /// figure keeps the larger value, so a bound only ever grows here.
    public func saveCalibration(_ c: InputBounds.Calibration, backend: String, model: String, at date: Date = Date()) throws {
        try locked {
            _ = try db.run("""
                INSERT INTO calibrations(backend, model, ratio, residual, ratio_residual, observations, updated)
                VALUES(?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(backend, model) DO UPDATE SET
                  ratio = max(ratio, excluded.ratio), residual = max(residual, excluded.residual),
                  ratio_residual = max(ratio_residual, excluded.ratio_residual),
                  observations = max(observations, excluded.observations), updated = excluded.updated
                """, [.text(backend), .text(model), .double(c.ratio), .int(Int64(c.residual)), .int(Int64(c.ratioResidual)),
                      .int(Int64(c.observations)), .double(date.timeIntervalSince1970)])
        }
    }
}
