package dev.prism.diffusion;

import dev.prism.nn.models.Models;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every official WaveDiff preset Prism has builds the official generator's {@code state_dict}: the same parameter
 * count, tensor count and names and shapes (a SHA-256 of the sorted {@code name:shape} lines, as
 * {@code tools/refgen/wavediff.py shapes} computes it from the official classes), so that its {@code netG_*.pth}
 * loads strictly. The models are declared, not allocated.
 */
class WaveDiffPresetsTest {
    @Test
    void everyOfficialPresetHasTheOfficialStateDict() throws Exception {
        String json = Files.readString(WaveDiffConformanceTest.resource("official-shapes.json"), StandardCharsets.UTF_8);
        for (String preset : Models.WAVEDIFF_OFFICIAL) {
            Matcher m = Pattern.compile("\"" + preset + "\": \\{\\s*\"parameters\": (\\d+),\\s*\"sha256\": \"([0-9a-f]+)\",\\s*\"tensors\": (\\d+)")
                    .matcher(json);
            assertTrue(m.find(), preset + " in official-shapes.json");
            Models.Built built = Models.structure("wavediff", Map.of("preset", preset));
            Map<String, int[]> shapes = built.module().expectedShapes();
            TreeSet<String> lines = new TreeSet<>();
            long count = 0;
            for (var e : shapes.entrySet()) {
                StringBuilder line = new StringBuilder(e.getKey()).append(':');
                long n = 1;
                for (int i = 0; i < e.getValue().length; i++) {
                    line.append(i == 0 ? "" : ",").append(e.getValue()[i]);
                    n *= e.getValue()[i];
                }
                lines.add(line.append('\n').toString());
                count += n;
            }
            assertEquals(Long.parseLong(m.group(1)), count, preset + ": parameters");
            assertEquals(Integer.parseInt(m.group(3)), shapes.size(), preset + ": tensors");
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String l : lines) {
                sha.update(l.getBytes(StandardCharsets.UTF_8));
            }
            assertEquals(m.group(2), HexFormat.of().formatHex(sha.digest()), preset + ": names and shapes");
        }
    }
}
