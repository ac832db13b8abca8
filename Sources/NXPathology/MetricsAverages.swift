extension Metrics {
    /// The arithmetic mean as np.mean: one NaN makes it NaN, no values give NaN. HoVer-Net
    /// averages its per-image segmentation scores so.
    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }

    /// The mean of the values that are not NaN, as np.nanmean; NaN when there are none.
    /// PanNuke's official script averages so, skipping images and classes without nuclei.
    public static func nanMean(_ values: [Double]) -> Double {
        mean(values.filter { !$0.isNaN })
    }
}
