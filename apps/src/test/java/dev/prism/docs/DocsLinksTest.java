package dev.prism.docs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every relative link in {@code README.md} and {@code docs/*.md} points at a file that exists and, when it
 * names an {@code #anchor}, at a heading of that Markdown file (anchors made as GitHub makes them).
 */
class DocsLinksTest {
    /**
     * Pages linked before they are merged: docs/TRAINING.md is written on the training branch. A link to
     * one of these passes only while the file is absent; once it exists it is checked like any other.
     */
    static final Set<String> PENDING = Set.of("docs/TRAINING.md");

    private static final Pattern LINK = Pattern.compile("(?<!!)\\[[^\\]]*]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");

    @Test
    void everyRelativeLinkOfTheReadmeAndTheDocsResolves() throws IOException {
        Path root = repositoryRoot();
        List<Path> pages = pages(root);
        assertTrue(pages.size() >= 8, "expected README.md and the docs pages, found " + pages);
        List<String> problems = problems(root, pages);
        assertEquals(List.of(), problems, String.join("\n", problems));
    }

    @Test
    void aMissingFileAndAMissingAnchorAreBothReported(@TempDir Path root) throws IOException {
        Files.createDirectories(root.resolve("docs"));
        Files.writeString(root.resolve("README.md"), """
                # Top
                [ok](docs/A.md#the-part-one) [self](#top) [gone](docs/NOPE.md) [bad anchor](docs/A.md#nowhere)
                `[in code](docs/NOPE2.md)`
                ```
                [in a fence](docs/NOPE3.md)
                ```
                [web](https://example.org/x) [pending](docs/TRAINING.md)
                """);
        Files.writeString(root.resolve("docs/A.md"), "# A\n## The part: `one`\n[up](../README.md#top) [down](#a-b)\n");
        List<String> problems = problems(root, pages(root));
        assertEquals(List.of("README.md: link 'docs/NOPE.md': no such file",
                "README.md: link 'docs/A.md#nowhere': no heading with anchor 'nowhere' in docs/A.md",
                "docs/A.md: link '#a-b': no heading with anchor 'a-b' in docs/A.md"), problems);
    }

    @Test
    void anchorsAreMadeAsGitHubMakesThem() {
        assertEquals(List.of("from-nothing-to-a-passing--ptornado-build", "what-prism-hands-to-tornadovm-and-how-failures-read",
                        "hand-vectorised-variants-jvm-only", "the-catalog-prism-kernels", "x", "x-1"),
                List.copyOf(anchors(List.of("## From nothing to a passing `-Ptornado` build",
                        "### What Prism hands to TornadoVM, and how failures read", "## Hand-vectorised variants (JVM only)",
                        "## The catalog: `prism kernels`", "# X", "# X"))));
    }

    static Path repositoryRoot() {
        // surefire runs each module's tests in the module's folder
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("README.md")) && Files.isDirectory(p.resolve("docs"))) {
                return p;
            }
        }
        throw new IllegalStateException("no README.md with a docs/ folder above " + Path.of("").toAbsolutePath());
    }

    static List<Path> pages(Path root) throws IOException {
        List<Path> pages = new ArrayList<>(List.of(root.resolve("README.md")));
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.getFileName().toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    static List<String> problems(Path root, List<Path> pages) {
        List<String> problems = new ArrayList<>();
        Map<Path, Set<String>> anchorsOf = new HashMap<>();
        for (Path page : pages) {
            String name = root.relativize(page).toString().replace('\\', '/');
            for (String target : links(read(page))) {
                if (target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
                    continue; // https:, mailto:: not a file of this repository
                }
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash);
                String anchor = hash < 0 ? null : target.substring(hash + 1);
                Path resolved = file.isEmpty() ? page : page.getParent().resolve(file).normalize();
                String relative = root.relativize(resolved).toString().replace('\\', '/');
                if (!Files.exists(resolved)) {
                    if (!PENDING.contains(relative)) {
                        problems.add(name + ": link '" + target + "': no such file");
                    }
                    continue;
                }
                if (anchor != null && !anchorsOf.computeIfAbsent(resolved, p -> anchors(read(p).lines().toList())).contains(anchor)) {
                    problems.add(name + ": link '" + target + "': no heading with anchor '" + anchor + "' in " + relative);
                }
            }
        }
        return problems;
    }

    /** The link targets of a Markdown text, outside fenced code blocks and inline code. */
    static List<String> links(String markdown) {
        List<String> targets = new ArrayList<>();
        boolean fenced = false;
        for (String line : markdown.lines().toList()) {
            if (line.strip().startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            if (fenced) {
                continue;
            }
            Matcher m = LINK.matcher(line.replaceAll("`[^`]*`", "``"));
            while (m.find()) {
                targets.add(m.group(1));
            }
        }
        return targets;
    }

    /**
     * GitHub's heading anchors: lower case, every character but letters, digits, spaces, hyphens and
     * underscores dropped, spaces made hyphens; a repeated anchor gets -1, -2, ...
     */
    static Set<String> anchors(List<String> lines) {
        Set<String> anchors = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        boolean fenced = false;
        for (String line : lines) {
            if (line.strip().startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            Matcher m = HEADING.matcher(line);
            if (fenced || !m.matches()) {
                continue;
            }
            String slug = m.group(1).toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
            int n = seen.merge(slug, 1, Integer::sum) - 1;
            anchors.add(n == 0 ? slug : slug + "-" + n);
        }
        return anchors;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
