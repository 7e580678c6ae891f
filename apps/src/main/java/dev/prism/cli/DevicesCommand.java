package dev.prism.cli;

import dev.prism.backend.DeviceInfo;
import dev.prism.backend.TornadoSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code prism devices}: the backends and devices Prism can use here, and which one is the default. */
@Command(name = "devices", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "List the backends and devices Prism can use, and the default.")
final class DevicesCommand implements Callable<Integer>, LibraryNames {
    @Override
    public Map<String, String> flags() {
        return LibraryNames.BACKEND;
    }

    @Spec
    CommandSpec spec;

    @Mixin
    BackendOptions backend;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrismConfig config = PrismConfig.load();
        BackendOptions.Choice choice = backend.choose(config);
        Runtime rt = Runtime.getRuntime();
        String tornadoReason = TornadoSupport.unavailableReason();

        Table t = new Table("device", "driver", "platform", "name", "global memory", "status").right(4);
        t.add("jvm:0", "JVM", System.getProperty("java.vm.vendor"), rt.availableProcessors() + " processors, "
                + System.getProperty("java.vm.name") + " " + Runtime.version(), (rt.maxMemory() >> 20) + " MiB heap", "available");
        t.add("jvm-plain", "JVM", "", "as jvm:0, plain loops only (no Vector API variants)", "", "available");
        t.add("jvm-seq", "JVM", "", "1 thread, the kernels' own loops (the reference)", "", "available");
        if (tornadoReason != null) {
            t.add("tornado", "-", "-", "-", "", "not in use: " + tornadoReason);
        } else {
            List<DeviceInfo> devices = TornadoSupport.devices();
            for (DeviceInfo d : devices) {
                t.add(d.id(), d.driver(), d.platform(), d.name() + " (" + d.type() + ")",
                        d.globalMemory() < 0 ? "?" : (d.globalMemory() >> 20) + " MiB", "available");
            }
            if (devices.isEmpty()) {
                t.add("tornado", "-", "-", "-", "", "TornadoVM runs but found no device");
            }
        }
        t.print(out);
        out.println();
        String what = switch (choice.id()) {
            case "jvm" -> "jvm (" + choice.threads() + " threads)";
            case "tornado" -> "tornado:" + choice.tornadoDevice();
            default -> choice.id();
        };
        out.println("default: " + what + ", from " + choice.reason()
                + (choice.id().equals("tornado") && tornadoReason != null ? " — but TornadoVM is not in use here: " + tornadoReason : ""));
        return 0;
    }
}
