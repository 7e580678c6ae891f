package dev.prism.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code prism devices}: the backends and devices Prism can use here, and which one is the default. */
@Command(name = "devices", description = "List the backends and devices Prism can use, and the default.")
final class DevicesCommand implements Callable<Integer> {
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
        TornadoStatus tornado = TornadoStatus.probe();

        Table t = new Table("backend", "device", "status");
        t.add("jvm", rt.availableProcessors() + " processors, " + (rt.maxMemory() >> 20) + " MiB heap, "
                + System.getProperty("java.vm.name") + " " + Runtime.version(), "available");
        t.add("jvm-seq", "1 thread, the kernels' own loops (the reference)", "available");
        t.add("tornado", "-", "not in use: " + tornado.reason());
        t.print(out);
        out.println();
        out.println("default: " + choice.id() + (choice.id().equals("jvm") ? " (" + choice.threads() + " threads)" : "")
                + ", from " + choice.reason());
        return 0;
    }
}
