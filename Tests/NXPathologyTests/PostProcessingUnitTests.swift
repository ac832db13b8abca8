import Foundation
import NXTestSupport
import Testing

@testable import NXPathology

/// The building blocks of HoVer-Net's post-processing on hand-made inputs whose answers are
/// known (or are OpenCV's, scipy's and skimage's, copied from their output).
@Suite struct PostProcessingUnitTests {
    // MARK: Sobel

    @Test("Sobel kernels are OpenCV's getDerivKernels values")
    func sobelKernels() {
        // cv2.getDerivKernels(1, 0, 21, normalize=False) on OpenCV 5.0.0.
        #expect(SobelKernel.coefficients(order: 1, size: 21) == [
            -1, -18, -152, -798, -2907, -7752, -15504, -23256, -25194, -16796, 0,
            16796, 25194, 23256, 15504, 7752, 2907, 798, 152, 18, 1,
        ])
        #expect(SobelKernel.coefficients(order: 0, size: 21) == [
            1, 20, 190, 1140, 4845, 15504, 38760, 77520, 125970, 167960, 184756,
            167960, 125970, 77520, 38760, 15504, 4845, 1140, 190, 20, 1,
        ])
        #expect(SobelKernel.coefficients(order: 0, size: 5) == [1, 4, 6, 4, 1])
        #expect(SobelKernel.coefficients(order: 1, size: 5) == [-1, -2, 0, 2, 1])
        #expect(SobelKernel.coefficients(order: 2, size: 5) == [1, 0, -2, 0, 1])
        #expect(SobelKernel.coefficients(order: 1, size: 3) == [-1, 0, 1])
    }

    @Test("Sobel kernels match cv2.getDerivKernels for every aperture", .enabled(if: PythonTool.shouldRun))
    func sobelKernelsAgainstOpenCV() throws {
        // ktype CV_64F, as cv2.Sobel uses for a CV_64F output: the default CV_32F kernel rounds
        // the coefficients above 2^24 of apertures 29 and 31.
        let output = try PythonTool.run(script: """
            import cv2, json
            print(json.dumps({f"{o},{k}": cv2.getDerivKernels(o, 0 if o else 1, k, normalize=False, ktype=cv2.CV_64F)[0].ravel().astype(int).tolist()
                              for k in range(3, 32, 2) for o in (0, 1, 2) if k > o}))
            """)
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [Int]])
        #expect(expected.count == 45)
        for (key, values) in expected {
            let parts = key.split(separator: ",").map { Int($0)! }
            #expect(SobelKernel.coefficients(order: parts[0], size: parts[1]) == values, "order, size = \(key)")
        }
    }

    /// Runs `SobelFilter` on a float map.
    func sobel(_ values: [Float], width: Int, height: Int, dx: Int, dy: Int, size: Int) -> [Double] {
        var output = [Double](repeating: 0, count: values.count)
        var rows = output
        var line = [Double](repeating: 0, count: max(width, height) + size)
        let filter = SobelFilter(dx: dx, dy: dy, size: size)
        values.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { output in
                rows.withUnsafeMutableBufferPointer { rows in
                    line.withUnsafeMutableBufferPointer { line in
                        filter.apply(source, width: width, height: height, into: output, rows: rows, line: line)
                    }
                }
            }
        }
        return output
    }

    @Test("Sobel of a ramp is 2^(2k-3) inside and 0 on the REFLECT_101 border")
    func sobelRamp() {
        let width = 25, height = 23
        let rampX = (0..<(width * height)).map { Float($0 % width) }
        let rampY = (0..<(width * height)).map { Float($0 / width) }
        for size in [3, 5, 21] {
            let gx = sobel(rampX, width: width, height: height, dx: 1, dy: 0, size: size)
            let gy = sobel(rampY, width: width, height: height, dx: 0, dy: 1, size: size)
            let expected = pow(2.0, Double(2 * size - 3))
            #expect(gx[11 * width + 12] == expected, "ksize \(size)")
            #expect(gy[11 * width + 12] == expected, "ksize \(size)")
            // REFLECT_101 mirrors the ramp about the first column: no slope there.
            #expect(gx[11 * width] == 0)
            #expect(gy[12] == 0)
            // A ramp along x has no y derivative anywhere.
            #expect(sobel(rampX, width: width, height: height, dx: 0, dy: 1, size: size).allSatisfy { $0 == 0 })
        }
    }

    @Test("Sobel on maps narrower than the kernel reflects repeatedly, as borderInterpolate")
    func sobelNarrowMap() {
        #expect(ReflectBorder.index(-1, count: 5) == 1)
        #expect(ReflectBorder.index(5, count: 5) == 3)
        #expect(ReflectBorder.index(-9, count: 4) == 3)  // -9 -> 9 -> -3 -> 3
        #expect(ReflectBorder.index(12, count: 4) == 0)  // 12 -> -6 -> 6 -> 0
        #expect(ReflectBorder.index(7, count: 1) == 0)
        // A single column: every tap reads the same pixel, so the derivative along x is 0.
        let column = sobel([1, 2, 3, 4, 5, 6], width: 1, height: 6, dx: 1, dy: 0, size: 21)
        #expect(column.allSatisfy { $0 == 0 })
    }

    // MARK: Normalisation and blur

    @Test("min-max normalisation maps min to 0 and max to 1, and a constant map to 0")
    func normalization() {
        func normalize(_ values: [Float]) -> [Float] {
            var output = [Float](repeating: -1, count: values.count)
            values.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { MinMaxNormalization.normalize(source, into: $0) }
            }
            return output
        }
        #expect(normalize([-2, 0, 2]) == [0, 0.5, 1])
        #expect(normalize([3, 3, 3]) == [0, 0, 0])
        let (scale, shift) = MinMaxNormalization.coefficients(minimum: -2, maximum: 6)
        #expect(scale == 0.125 && shift == 0.25)
        var doubles = [Float](repeating: -1, count: 3)
        [10.0, 12.0, 14.0].withUnsafeBufferPointer { source in
            doubles.withUnsafeMutableBufferPointer { MinMaxNormalization.normalize(source, into: $0) }
        }
        #expect(doubles == [0, 0.5, 1])
    }

    @Test("the 3x3 Gaussian blur uses (1/4, 1/2, 1/4) with REFLECT_101 borders")
    func gaussianBlur() {
        // One bright pixel in the corner of a 4x3 map (cv2.GaussianBlur gives the same).
        let width = 4, height = 3
        var source = [Double](repeating: 0, count: width * height)
        source[0] = 16
        var output = source, scratch = source
        source.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { output in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    GaussianBlur3x3.apply(source, width: width, height: height, into: output, scratch: scratch)
                }
            }
        }
        // Rows: x = 0 reads its left neighbour as x = 1 (REFLECT_101), so row 0 becomes
        // [8, 4, 0, 0]; columns likewise: row 0 keeps half, row 1 gets a quarter.
        #expect(output == [4, 2, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0])
    }

    // MARK: Labelling

    func label(_ mask: [UInt8], width: Int, _ connectivity: Labeling.Connectivity) -> ([Int32], Int32) {
        var labels = [Int32](repeating: -1, count: mask.count)
        var stack: [Int32] = []
        let count = mask.withUnsafeBufferPointer { mask in
            labels.withUnsafeMutableBufferPointer {
                Labeling.label(mask, width: width, height: mask.count / width, connectivity: connectivity, into: $0, stack: &stack)
            }
        }
        return (labels, count)
    }

    @Test("labelling numbers components in raster order, 4- or 8-connected")
    func labelling() {
        let mask: [UInt8] = [
            0, 0, 1, 1, 0,
            1, 0, 0, 1, 0,
            0, 1, 0, 0, 0,
            1, 1, 0, 1, 1,
        ]
        let (four, fourCount) = label(mask, width: 5, .four)
        #expect(fourCount == 4)
        #expect(four == [
            0, 0, 1, 1, 0,
            2, 0, 0, 1, 0,
            0, 3, 0, 0, 0,
            3, 3, 0, 4, 4,
        ])
        let (eight, eightCount) = label(mask, width: 5, .eight)
        #expect(eightCount == 3)
        #expect(eight == [
            0, 0, 1, 1, 0,
            2, 0, 0, 1, 0,
            0, 2, 0, 0, 0,
            2, 2, 0, 3, 3,
        ])
        // A U shape whose arms meet only at the bottom is still one component, numbered by its
        // first raster pixel.
        let (u, uCount) = label([1, 0, 1, 1, 0, 1, 1, 1, 1], width: 3, .four)
        #expect(uCount == 1 && u == [1, 0, 1, 1, 0, 1, 1, 1, 1])
    }

    @Test("small objects are removed without renumbering the others")
    func smallObjects() {
        var labels: [Int32] = [1, 1, 0, 2, 3, 3, 3, 0, 2]
        var sizes: [Int] = []
        labels.withUnsafeMutableBufferPointer {
            Labeling.removeSmallObjects($0, labelCount: 3, minimumSize: 3, sizes: &sizes)
        }
        #expect(labels == [0, 0, 0, 0, 3, 3, 3, 0, 0])
    }

    // MARK: Morphology

    func filled(_ mask: [UInt8], width: Int) -> [UInt8] {
        var mask = mask
        var stack: [Int32] = []
        mask.withUnsafeMutableBufferPointer {
            MorphologyFillHoles.fill($0, width: width, height: $0.count / width, stack: &stack)
        }
        return mask
    }

    @Test("fill holes fills enclosed background, 4-connected, and leaves border-open gaps")
    func fillHoles() {
        #expect(filled([
            1, 1, 1, 0,
            1, 0, 1, 0,
            1, 1, 1, 0,
        ], width: 4) == [
            1, 1, 1, 0,
            1, 1, 1, 0,
            1, 1, 1, 0,
        ])
        // Background reaching the border is not a hole.
        #expect(filled([1, 0, 1, 1, 0, 1, 1, 1, 1], width: 3) == [1, 0, 1, 1, 0, 1, 1, 1, 1])
        // A pixel that touches the outside background only at a corner is a hole for scipy's
        // cross-shaped structure.
        #expect(filled([
            0, 0, 0, 0, 0,
            0, 0, 1, 0, 0,
            0, 1, 0, 1, 0,
            0, 0, 1, 1, 0,
            0, 0, 0, 0, 0,
        ], width: 5) == [
            0, 0, 0, 0, 0,
            0, 0, 1, 0, 0,
            0, 1, 1, 1, 0,
            0, 0, 1, 1, 0,
            0, 0, 0, 0, 0,
        ])
        #expect(filled([UInt8](repeating: 0, count: 6), width: 3) == [UInt8](repeating: 0, count: 6))
        #expect(filled([UInt8](repeating: 1, count: 6), width: 3) == [UInt8](repeating: 1, count: 6))
    }

    @Test("the 5x5 ellipse is cv2.getStructuringElement(MORPH_ELLIPSE, (5, 5))")
    func ellipse() {
        #expect(MorphologyStructuringElement.ellipse(width: 5, height: 5).matrix == [
            [0, 0, 1, 0, 0],
            [1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1],
            [0, 0, 1, 0, 0],
        ])
        // OpenCV 5.0.0's 7x7 and 3x3 ellipses.
        #expect(MorphologyStructuringElement.ellipse(width: 7, height: 7).matrix == [
            [0, 0, 0, 1, 0, 0, 0],
            [0, 1, 1, 1, 1, 1, 0],
            [1, 1, 1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1, 1, 1],
            [0, 1, 1, 1, 1, 1, 0],
            [0, 0, 0, 1, 0, 0, 0],
        ])
        #expect(MorphologyStructuringElement.ellipse(width: 3, height: 3).matrix == [[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    }

    func opened(_ mask: [UInt8], width: Int) -> [UInt8] {
        var mask = mask
        var scratch = [UInt8](repeating: 0, count: mask.count)
        let height = mask.count / width
        var counts = [Int32](repeating: 0, count: (width + 1) * height)
        let opening = MorphologyOpening(element: .ellipse(width: 5, height: 5))
        mask.withUnsafeMutableBufferPointer { mask in
            scratch.withUnsafeMutableBufferPointer { scratch in
                counts.withUnsafeMutableBufferPointer { counts in
                    opening.open(mask, width: width, height: height, scratch: scratch, counts: counts)
                }
            }
        }
        return mask
    }

    /// A width x height map with the 5x5 ellipse placed with its centre at (cx, cy).
    func ellipseMask(width: Int, height: Int, cx: Int, cy: Int) -> [UInt8] {
        var mask = [UInt8](repeating: 0, count: width * height)
        for (row, values) in MorphologyStructuringElement.ellipse(width: 5, height: 5).matrix.enumerated() {
            for (column, value) in values.enumerated() where value == 1 {
                let x = cx + column - 2, y = cy + row - 2
                if x >= 0 && x < width && y >= 0 && y < height { mask[y * width + x] = 1 }
            }
        }
        return mask
    }

    @Test("opening keeps shapes that contain the ellipse and removes thinner ones")
    func opening() {
        // The ellipse itself survives exactly.
        let ellipse = ellipseMask(width: 9, height: 9, cx: 4, cy: 4)
        #expect(opened(ellipse, width: 9) == ellipse)
        // A 3x3 square and a 2-wide bar vanish.
        var thin = [UInt8](repeating: 0, count: 81)
        for y in 3...5 { for x in 3...5 { thin[y * 9 + x] = 1 } }
        #expect(opened(thin, width: 9).allSatisfy { $0 == 0 })
        // An ellipse cut by the image border is not eroded from outside (OpenCV's default
        // border counts as foreground for erosion and background for dilation).
        let cut = ellipseMask(width: 9, height: 9, cx: 0, cy: 4)
        #expect(opened(cut, width: 9) == cut)
        // A full map stays full; a 5x5 square holds the ellipse in one place only, so it
        // opens to that ellipse (cv2.morphologyEx gives the same).
        #expect(opened([UInt8](repeating: 1, count: 30), width: 6) == [UInt8](repeating: 1, count: 30))
        var square = [UInt8](repeating: 0, count: 81)
        for y in 2...6 { for x in 2...6 { square[y * 9 + x] = 1 } }
        #expect(opened(square, width: 9) == ellipseMask(width: 9, height: 9, cx: 4, cy: 4))
    }

    // MARK: Watershed

    func watershed(
        _ image: [Double], markers: [Int32], mask: [UInt8]? = nil, width: Int, cost: WatershedCost = .raisedToSource
    ) -> [Int32] {
        var labels = markers
        let mask = mask ?? [UInt8](repeating: 1, count: image.count)
        image.withUnsafeBufferPointer { image in
            labels.withUnsafeMutableBufferPointer { labels in
                mask.withUnsafeBufferPointer { mask in
                    Watershed.flood(
                        image: image, labels: labels, mask: mask, width: width, height: image.count / width, cost: cost)
                }
            }
        }
        return labels
    }

    @Test("watershed floods basins from markers and meets at the ridge")
    func watershedRidge() {
        // skimage.segmentation.watershed(np.array([[0,1,2,5,2,1,0]], float), markers=[[1,0,0,0,0,0,2]])
        // gives [[1, 1, 1, 1, 2, 2, 2]]: the ridge pixel goes to the marker whose flood reaches
        // it first (both push it at cost 5; marker 1's push is older).
        #expect(watershed([0, 1, 2, 5, 2, 1, 0], markers: [1, 0, 0, 0, 0, 0, 2], width: 7) == [1, 1, 1, 1, 2, 2, 2])
        // A lower basin on the right: marker 2 floods its cheaper pixels first and then takes
        // the plateau up to where marker 1's older pushes win (skimage: [[1,1,2,2,2,2,2]]).
        #expect(watershed([3, 3, 3, 3, 1, 0, 0], markers: [1, 0, 0, 0, 0, 0, 2], width: 7) == [1, 1, 2, 2, 2, 2, 2])
    }

    @Test("on a plateau, insertion age splits the region evenly between markers")
    func watershedPlateau() {
        // skimage: watershed(np.zeros((1, 8)), markers=[[1,0,0,0,0,0,0,2]]) -> [[1,1,1,1,2,2,2,2]]
        #expect(watershed([Double](repeating: 0, count: 8), markers: [1, 0, 0, 0, 0, 0, 0, 2], width: 8)
            == [1, 1, 1, 1, 2, 2, 2, 2])
        // 2-D: a flat 3x3 with markers in opposite corners splits along the anti-diagonal,
        // the tie on it going to marker 1 (its pushes are older at every step).
        #expect(watershed([Double](repeating: 0, count: 9), markers: [1, 0, 0, 0, 0, 0, 0, 0, 2], width: 3)
            == [1, 1, 1, 1, 1, 2, 1, 2, 2])
    }

    @Test("the mask confines the flood and clears markers outside it")
    func watershedMask() {
        let image = [Double](repeating: 0, count: 6)
        let mask: [UInt8] = [1, 1, 0, 1, 1, 1]
        #expect(watershed(image, markers: [1, 0, 0, 0, 0, 0], mask: mask, width: 6) == [1, 1, 0, 0, 0, 0])
        #expect(watershed(image, markers: [0, 0, 3, 0, 0, 0], mask: mask, width: 6) == [0, 0, 0, 0, 0, 0])
        // No markers: nothing is labelled.
        #expect(watershed(image, markers: [0, 0, 0, 0, 0, 0], width: 3) == [0, 0, 0, 0, 0, 0])
    }

    @Test("raising costs to the source's (skimage >= 0.25.1) changes who wins a contested basin")
    func watershedCostModels() {
        // skimage 0.26 gives the first result; a transcription of the pre-0.25 loop (no cost
        // raise) gives the second. Marker 1 (value 2) pops first and queues its neighbours at 3;
        // marker 2 (value 3) then queues the 1s and 0s beside it. Without the raise those cost
        // 0 and 1, so marker 2 floods them and beyond before marker 1's 3s come up; with it they
        // cost 3 too, and marker 1's older entries go first.
        let image: [Double] = [2, 3, 0, 1, 3, 3, 1, 1, 1, 2, 0, 3]
        let markers: [Int32] = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]
        #expect(watershed(image, markers: markers, width: 4) == [1, 1, 1, 2, 1, 1, 2, 2, 1, 2, 2, 2])
        #expect(watershed(image, markers: markers, width: 4, cost: .pixelValue) == [1, 1, 2, 2, 1, 2, 2, 2, 2, 2, 2, 2])
    }

    @Test("the heap pops by value, then by age")
    func heapOrder() {
        var heap = WatershedHeap(capacity: 8)
        let entries: [(Double, Int32)] = [(1, 5), (0, 7), (1, 2), (-1, 9), (0, 3), (1, 0)]
        for (index, entry) in entries.enumerated() {
            heap.push(.init(value: entry.0, age: entry.1, index: Int32(index)))
        }
        var order: [Int32] = []
        while let item = heap.pop() { order.append(item.index) }
        #expect(order == [3, 4, 1, 5, 2, 0])
    }

    @Test("the radix heap pops a monotone sequence in (value, age) order, -0 and +0 alike")
    func radixHeapOrder() {
        var random = SeededRandom(seed: 7)
        var radix = WatershedRadixHeap(floor: .init(value: -.infinity, age: 0, index: -1))
        var reference: [WatershedHeap.Item] = []
        var popped: [WatershedHeap.Item] = []
        var age: Int32 = 0
        var floor = -Double.infinity
        for round in 0..<4000 {
            // Pushes never go below the last pop, and reuse a few values so ages decide.
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                age += 1
                let choices: [Double] = [-0.0, 0, 0.25, 1e-300, 3, -2.5, Double(round) / 7]
                let value = max(floor, choices.randomElement(using: &random)!)
                let item = WatershedHeap.Item(value: value, age: age, index: Int32(age))
                radix.push(item)
                reference.append(item)
            }
            guard round % 3 != 0, let item = radix.pop() else { continue }
            popped.append(item)
            floor = item.value
        }
        while let item = radix.pop() { popped.append(item) }
        let expected = reference.sorted { $0.value != $1.value ? $0.value < $1.value : $0.age < $1.age }
        #expect(popped.map(\.index) == expected.map(\.index))
        #expect(radix.count == 0)
    }

    @Test("handing the flood to the radix heap once markers no longer tie changes no label")
    func watershedRadixHandOver() {
        var random = SeededRandom(seed: 11)
        for trial in 0..<60 {
            let width = Int.random(in: 1...40, using: &random), height = Int.random(in: 1...40, using: &random)
            let count = width * height
            // Markers tie at -1, -0 and +0, so skimage's heap floods until those are popped and
            // the radix heap takes over mid-flood; half the other pixels sit on plateaus at 0.5
            // and 1, where ages decide. Trials from 40 on have continuous values only: no
            // markers tie, and the radix heap floods from the start.
            let markers = (0..<count).map { _ in Int.random(in: 0..<12, using: &random) == 0 ? Int32.random(in: 1...4, using: &random) : 0 }
            let image = markers.map { marker -> Double in
                guard trial < 40 else { return Double.random(in: -1...2, using: &random) }
                if marker != 0 { return [-1, -0.0, 0].randomElement(using: &random)! }
                return Bool.random(using: &random) ? [0.5, 1].randomElement(using: &random)! : Double.random(in: -1...2, using: &random)
            }
            let mask = (0..<count).map { _ in UInt8(Int.random(in: 0..<10, using: &random) < 8 ? 1 : 0) }
            for cost in [WatershedCost.raisedToSource, .pixelValue] {
                var handedOver = markers, skimageOnly = markers
                image.withUnsafeBufferPointer { image in
                    mask.withUnsafeBufferPointer { mask in
                        handedOver.withUnsafeMutableBufferPointer {
                            Watershed.flood(image: image, labels: $0, mask: mask, width: width, height: height, cost: cost)
                        }
                        skimageOnly.withUnsafeMutableBufferPointer {
                            Watershed.flood(
                                image: image, labels: $0, mask: mask, width: width, height: height, cost: cost,
                                skimageHeapThroughout: true)
                        }
                    }
                }
                #expect(handedOver == skimageOnly, "trial \(trial), \(width)x\(height), \(cost)")
            }
        }
    }

    // MARK: Contours

    func contour(_ mask: [UInt8], width: Int) -> InstanceContour.Trace {
        let height = mask.count / width
        let stride = width + 2
        var padded = [UInt8](repeating: 0, count: stride * (height + 2))
        for y in 0..<height { for x in 0..<width { padded[(y + 1) * stride + x + 1] = mask[y * width + x] } }
        let start = padded.firstIndex { $0 != 0 }!
        return padded.withUnsafeBufferPointer {
            InstanceContour.traceOuter($0, stride: stride, start: (start % stride, start / stride), offset: SIMD2(-1, -1))
        }
    }

    func points(_ list: [[Int32]]) -> [SIMD2<Int32>] { list.map { SIMD2($0[0], $0[1]) } }

    @Test("outer contours are OpenCV's findContours point sequences")
    func contours() {
        // cv2.findContours on OpenCV 5.0.0: a 8x7 block with a 3x3 hole at (3...5, 3...5).
        var block = [UInt8](repeating: 0, count: 9 * 10)
        for y in 1..<8 { for x in 1..<9 { block[y * 10 + x] = 1 } }
        for y in 3..<6 { for x in 3..<6 { block[y * 10 + x] = 0 } }
        let trace = contour(block, width: 10)
        #expect(trace.all == points([
            [1, 1], [1, 2], [1, 3], [1, 4], [1, 5], [1, 6], [1, 7], [2, 7], [3, 7], [4, 7], [5, 7], [6, 7], [7, 7],
            [8, 7], [8, 6], [8, 5], [8, 4], [8, 3], [8, 2], [8, 1], [7, 1], [6, 1], [5, 1], [4, 1], [3, 1], [2, 1],
        ]))
        #expect(trace.simple == points([[1, 1], [1, 7], [8, 7], [8, 1]]))
        // A horizontal line: out and back (NONE), its two ends (SIMPLE).
        var line = [UInt8](repeating: 0, count: 30)
        for x in 1...4 { line[2 * 6 + x] = 1 }
        let lineTrace = contour(line, width: 6)
        #expect(lineTrace.all == points([[1, 2], [2, 2], [3, 2], [4, 2], [3, 2], [2, 2]]))
        #expect(lineTrace.simple == points([[1, 2], [4, 2]]))
        // A map that is all foreground: the border runs along the image edge.
        #expect(contour([UInt8](repeating: 1, count: 12), width: 4).all == points([
            [0, 0], [0, 1], [0, 2], [1, 2], [2, 2], [3, 2], [3, 1], [3, 0], [2, 0], [1, 0],
        ]))
        // One pixel.
        #expect(contour([0, 0, 0, 0, 1, 0], width: 3).all == points([[1, 1]]))
        // Diagonal neighbours belong to the same border (8-connectivity).
        #expect(contour([1, 0, 0, 1], width: 2).all == points([[0, 0], [1, 1]]))
    }

    @Test("contours match cv2.findContours on random blobs", .enabled(if: PythonTool.shouldRun))
    func contoursAgainstOpenCV() throws {
        // Random 0/1 crops, each reduced to its largest 8-connected component, traced by OpenCV.
        let output = try PythonTool.run(script: """
            import cv2, json, numpy as np
            rng = np.random.default_rng(7)
            cases = []
            for k in range(60):
                h, w = rng.integers(1, 12, size=2)
                img = (rng.random((h, w)) < rng.uniform(0.3, 0.9)).astype(np.uint8)
                if img.sum() == 0:
                    img[rng.integers(h), rng.integers(w)] = 1
                n, comp, stats, _ = cv2.connectedComponentsWithStats(img, connectivity=8)
                keep = 1 + int(np.argmax(stats[1:n, cv2.CC_STAT_AREA]))
                img = (comp == keep).astype(np.uint8)
                none = cv2.findContours(img, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0][0].reshape(-1, 2)
                simple = cv2.findContours(img, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0][0].reshape(-1, 2)
                cases.append({"w": int(w), "mask": img.ravel().tolist(), "none": none.tolist(), "simple": simple.tolist()})
            print(json.dumps(cases))
            """)
        let cases = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
        #expect(cases.count == 60)
        for (index, item) in cases.enumerated() {
            let mask = try #require(item["mask"] as? [Int]).map(UInt8.init)
            let trace = contour(mask, width: try #require(item["w"] as? Int))
            #expect(trace.all == points(try #require(item["none"] as? [[Int32]])), "case \(index)")
            #expect(trace.simple == points(try #require(item["simple"] as? [[Int32]])), "case \(index)")
        }
    }

    // MARK: Types

    func vote(_ counts: [Int], pixels: Int? = nil) -> (Int, Double) {
        let result = counts.withUnsafeBufferPointer {
            InstanceTypeVote.vote(counts: $0, pixelCount: pixels ?? counts.reduce(0, +))
        }
        return (result.type, result.probability)
    }

    @Test("type vote: majority, ties to the smaller id, background loses to any type")
    func typeVote() {
        #expect(vote([0, 2, 5, 3]).0 == 2)
        #expect(vote([0, 4, 4, 1]).0 == 1)
        #expect(vote([9, 0, 1, 0]).0 == 2)
        #expect(vote([9, 0, 0, 0]).0 == 0)
        let (type, probability) = vote([1, 0, 3, 0])
        #expect(type == 2 && probability == 3.0 / (4.0 + 1e-6))
        #expect(vote([6]) == (0, 6.0 / (6.0 + 1e-6)))
    }

    // MARK: Whole pipeline

    @Test("an empty NP map gives no instances and no records")
    func emptyMaps() throws {
        let width = 40, height = 30
        let processor = PostProcessor()
        let map = try processor.instances(
            np: [Float](repeating: 0.1, count: width * height), hv: [Float](repeating: 0, count: 2 * width * height),
            width: width, height: height)
        #expect(map.labels.allSatisfy { $0 == 0 })
        #expect(map.instanceCount == 0)
        #expect(try processor.instanceRecords(labels: map, typeArgmax: [UInt8](repeating: 1, count: width * height)).isEmpty)
    }

    /// HV maps as HoVer-Net's targets for a label map: offsets from each instance's centre of
    /// mass, negatives scaled to [-1, 0], positives to [0, 1].
    func hvTargets(_ labels: [Int32], width: Int, height: Int) -> [Float] {
        var hv = [Float](repeating: 0, count: 2 * width * height)
        for id in Set(labels).subtracting([0]) {
            let pixels = labels.indices.filter { labels[$0] == id }
            for (channel, coordinate) in [(0, { (i: Int) in i % width }), (1, { (i: Int) in i / width })] {
                let values = pixels.map { Double(coordinate($0)) }
                let mean = values.reduce(0, +) / Double(values.count)
                let low = values.map { $0 - mean }.min()!, high = values.map { $0 - mean }.max()!
                for (pixel, value) in zip(pixels, values) {
                    let offset = value - mean
                    hv[channel * width * height + pixel] = Float(offset < 0 ? offset / -low : offset > 0 ? offset / high : 0)
                }
            }
        }
        return hv
    }

    @Test("an all-foreground map of four nuclei is split into the four")
    func allForeground() throws {
        let width = 48, height = 40
        let truth = (0..<(width * height)).map { i -> Int32 in
            Int32(1 + (i / width >= height / 2 ? 2 : 0) + (i % width >= width / 2 ? 1 : 0))
        }
        let processor = PostProcessor()
        let map = try processor.instances(
            np: [Float](repeating: 0.9, count: width * height), hv: hvTargets(truth, width: width, height: height),
            width: width, height: height)
        #expect(map.instanceCount == 4)
        #expect(map.labels.allSatisfy { $0 != 0 }, "every pixel belongs to a nucleus")
        #expect(map.labels == truth, "the quadrants, numbered in raster order")
        let records = try processor.instanceRecords(labels: map, typeArgmax: truth.map { Int($0) % 3 })
        #expect(records.map(\.type) == [1, 2, 0, 1])
        #expect(records.map(\.pixelCount) == [480, 480, 480, 480])
        #expect(records[0].centroid == SIMD2(11.5, 9.5))
        #expect(records[3].boundingBox == InstanceBoundingBox(rowMin: 20, columnMin: 24, rowMax: 40, columnMax: 48))
    }

    @Test("an all-foreground map with flat HV maps has no markers, so no instances")
    func allForegroundFlat() throws {
        let map = try PostProcessor().instances(
            np: [Float](repeating: 1, count: 100), hv: [Float](repeating: 0.3, count: 200), width: 10, height: 10)
        #expect(map.labels.allSatisfy { $0 == 0 })
    }

    @Test("records carry HoVer-Net's bbox, centroid and type conventions")
    func recordConventions() throws {
        // A 3x4 block at rows 2...4, columns 1...4 in a 6x7 map, plus an L-shaped instance.
        let width = 7, height = 6
        var labels = [Int32](repeating: 0, count: width * height)
        for y in 2...4 { for x in 1...4 { labels[y * width + x] = 5 } }
        for (x, y) in [(6, 0), (6, 1), (5, 1)] { labels[y * width + x] = 9 }
        var types = [Int32](repeating: 0, count: width * height)
        for x in 1...4 { types[2 * width + x] = 3 }  // 4 of 12 pixels vote 3, the rest background
        let map = try InstanceMap(width: width, height: height, labels: labels)
        let records = try PostProcessor().instanceRecords(labels: map, typeArgmax: types)
        #expect(records.map(\.id) == [5, 9])
        let block = records[0]
        #expect(block.boundingBox == InstanceBoundingBox(rowMin: 2, columnMin: 1, rowMax: 5, columnMax: 5))
        #expect(block.centroid == SIMD2(2.5, 3.0))
        #expect(block.type == 3)
        #expect(block.typeProbability == 4.0 / (12.0 + 1e-6))
        #expect(block.contour.first == SIMD2(1, 2))
        #expect(records[1].type == 0 && records[1].typeProbability == 3.0 / (3.0 + 1e-6))
        #expect(records[1].nucleus.contour == [Nucleus.Point(x: 6, y: 0), Nucleus.Point(x: 5, y: 1), Nucleus.Point(x: 6, y: 1)])
        #expect(block.nucleus.bbox == Nucleus.BoundingBox(rowMin: 2, columnMin: 1, rowMax: 5, columnMax: 5))
    }

    @Test("instances on one straight line get no record, as HoVer-Net skips them")
    func degenerateInstances() throws {
        var labels = [Int32](repeating: 0, count: 64)
        for x in 0..<8 { labels[3 * 8 + x] = 1 }  // a row
        for k in 0..<5 { labels[k * 8 + k] = 2 }  // a diagonal (crossing nothing of label 1)
        labels[3 * 8 + 3] = 1
        labels[7 * 8 + 7] = 4  // one pixel
        for (x, y) in [(5, 5), (6, 5), (5, 6)] { labels[y * 8 + x] = 3 }  // an L: kept
        let records = try PostProcessor().instanceRecords(labels: try InstanceMap(width: 8, height: 8, labels: labels))
        #expect(records.map(\.id) == [3])
    }

    @Test("of a split instance, the contour is the largest part's")
    func splitInstance() throws {
        // Label 1 in two pieces: a single pixel and a 2x3 block.
        var labels = [Int32](repeating: 0, count: 30)
        labels[0] = 1
        for y in 2...3 { for x in 2...4 { labels[y * 6 + x] = 1 } }
        let records = try PostProcessor().instanceRecords(labels: try InstanceMap(width: 6, height: 5, labels: labels))
        #expect(records.count == 1)
        #expect(records[0].pixelCount == 7)
        #expect(records[0].contour == points([[2, 2], [2, 3], [3, 3], [4, 3], [4, 2], [3, 2]]))
        #expect(records[0].boundingBox == InstanceBoundingBox(rowMin: 0, columnMin: 0, rowMax: 4, columnMax: 5))
    }

    @Test("bad inputs throw errors that name the map or option")
    func errors() {
        let processor = PostProcessor()
        #expect(throws: PostProcessingError.sizeMismatch(map: "np", expected: 6, actual: 5)) {
            try processor.instances(np: [Float](repeating: 0, count: 5), hv: [Float](repeating: 0, count: 12), width: 3, height: 2)
        }
        #expect(throws: PostProcessingError.sizeMismatch(map: "hv", expected: 12, actual: 6)) {
            try processor.instances(np: [Float](repeating: 0, count: 6), hv: [Float](repeating: 0, count: 6), width: 3, height: 2)
        }
        #expect(throws: PostProcessingError.invalidSize(width: 0, height: 2)) {
            try processor.instances(np: [], hv: [], width: 0, height: 2)
        }
        var hv = [Float](repeating: 0, count: 12)
        hv[7] = .nan
        #expect(throws: PostProcessingError.self) {
            try processor.instances(np: [Float](repeating: 0, count: 6), hv: hv, width: 3, height: 2)
        }
        #expect(throws: PostProcessingError.invalidOption("sobelKernelSize", "must be odd and in 3...31, got 20")) {
            try PostProcessor(PostProcessingOptions(sobelKernelSize: 20)).instances(
                np: [Float](repeating: 0, count: 6), hv: [Float](repeating: 0, count: 12), width: 3, height: 2)
        }
        #expect(throws: PostProcessingError.invalidLabel(index: 1, value: -2)) {
            try InstanceMap(width: 2, height: 1, labels: [0, -2])
        }
        #expect(throws: PostProcessingError.invalidType(map: "type argmax", index: 2, value: -1)) {
            try processor.instanceRecords(labels: InstanceMap(width: 3, height: 1, labels: [1, 1, 1]), typeArgmax: [0, 1, -1])
        }
        #expect(throws: PostProcessingError.sizeMismatch(map: "type probabilities", expected: 6, actual: 5)) {
            try processor.instanceRecords(
                labels: InstanceMap(width: 3, height: 1, labels: [1, 1, 1]), typeProbabilities: [Float](repeating: 0, count: 5),
                typeCount: 2)
        }
        #expect(PostProcessingError.nonFinite(map: "hv", index: 7, value: .infinity).description == "hv: value inf at index 7 is not finite")
    }
}
