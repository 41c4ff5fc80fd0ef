package io.quiver.cluster.raft;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executor;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;

/**
 * Ratis's view of a {@link MetaMachine}: applies committed entries to it, writes and loads its
 * snapshots ({@link SnapshotFile}, one file per snapshot, kept by Ratis's
 * {@link SimpleStateMachineStorage} and shipped by the leader to peers behind its log), and lets
 * proposers wait until an index is applied here.
 *
 * <p>Ratis calls apply, snapshot and reload from its one state-machine thread; waiters complete on
 * {@code completions}, never on that thread.
 */
final class MetaStateMachine extends BaseStateMachine {
  private static final System.Logger log = System.getLogger(MetaStateMachine.class.getName());

  private final MetaMachine machine;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private final Executor completions;
  private final Runnable onConfigurationChanged;
  private final ConcurrentSkipListMap<Long, CompletableFuture<Void>> waiters = new ConcurrentSkipListMap<>();
  private volatile long applied = -1;
  private volatile boolean closed;

  MetaStateMachine(MetaMachine machine, Executor completions, Runnable onConfigurationChanged) {
    this.machine = machine;
    this.completions = completions;
    this.onConfigurationChanged = onConfigurationChanged;
  }

  /** The index of the last entry applied here (operations, configurations and leader no-ops). */
  long appliedIndex() {
    return applied;
  }

  /** Completes once every entry up to {@code index} is applied here; fails if the node closes first. */
  CompletableFuture<Void> awaitApplied(long index) {
    if (applied >= index) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> f = waiters.computeIfAbsent(index, k -> new CompletableFuture<>());
    // the applier may have moved past index between the check and the registration
    if (applied >= index || closed) {
      release(applied);
    }
    return f;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    getLifeCycle().startAndTransition(() -> {
      super.initialize(server, groupId, raftStorage);
      storage.init(raftStorage);
      load(storage.getLatestSnapshot());
    }, IOException.class);
  }

  @Override
  public SimpleStateMachineStorage getStateMachineStorage() {
    return storage;
  }

  @Override
  public void pause() {
    getLifeCycle().transition(LifeCycle.State.PAUSING);
    getLifeCycle().transition(LifeCycle.State.PAUSED);
  }

  /** After the leader installed a snapshot here: the state becomes the snapshot's. */
  @Override
  public void reinitialize() throws IOException {
    load(storage.loadLatestSnapshot());
    if (getLifeCycleState() == LifeCycle.State.PAUSED) {
      getLifeCycle().transition(LifeCycle.State.STARTING);
      getLifeCycle().transition(LifeCycle.State.RUNNING);
    }
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    byte[] result;
    try {
      result = machine.apply(entry.getIndex(), entry.getStateMachineLogEntry().getLogData().toByteArray());
    } catch (RuntimeException e) {
      log.log(System.Logger.Level.ERROR, "MetaMachine.apply threw at index " + entry.getIndex()
          + "; this peer's state is now behind the others'", e);
      advance(entry.getTerm(), entry.getIndex());
      return CompletableFuture.failedFuture(e);
    }
    advance(entry.getTerm(), entry.getIndex());
    return CompletableFuture.completedFuture(Message.valueOf(UnsafeByteOperations.unsafeWrap(result)));
  }

  /** Configuration entries and leaders' no-op entries: nothing to apply, but the index moves. */
  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    advance(term, index);
  }

  @Override
  public void notifyConfigurationChanged(long term, long index, RaftConfigurationProto conf) {
    onConfigurationChanged.run();
  }

  @Override
  public long takeSnapshot() throws IOException {
    TermIndex last = getLastAppliedTermIndex();
    if (last == null || last.getIndex() < 0) {
      return -1;
    }
    File file = storage.getSnapshotFile(last.getTerm(), last.getIndex());
    SnapshotFile.write(file.toPath(), last.getTerm(), last.getIndex(), machine.snapshot());
    MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
    storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), last));
    return last.getIndex();
  }

  @Override
  public void close() throws IOException {
    closed = true;
    super.close();
    release(Long.MAX_VALUE);
  }

  private void load(SingleFileSnapshotInfo snapshot) throws IOException {
    if (snapshot == null) {
      return;
    }
    Path file = snapshot.getFile().getPath();
    if (!Files.exists(file)) {
      throw new IOException("snapshot " + snapshot + " has no file " + file);
    }
    MD5Hash md5 = snapshot.getFile().getFileDigest();
    if (md5 != null) {
      MD5FileUtil.verifySavedMD5(file.toFile(), md5);
    }
    TermIndex ti = snapshot.getTermIndex();
    machine.restore(SnapshotFile.read(file, ti.getTerm(), ti.getIndex()));
    setLastAppliedTermIndex(ti);
    applied = ti.getIndex();
    release(applied);
  }

  private void advance(long term, long index) {
    updateLastAppliedTermIndex(term, index);
    applied = index;
    release(index);
  }

  private void release(long upTo) {
    for (Map.Entry<Long, CompletableFuture<Void>> e = waiters.firstEntry();
        e != null && (e.getKey() <= upTo || closed); e = waiters.firstEntry()) {
      if (waiters.remove(e.getKey(), e.getValue())) {
        CompletableFuture<Void> f = e.getValue();
        if (e.getKey() <= upTo && !closed) {
          completions.execute(() -> f.complete(null));
        } else {
          completions.execute(() -> f.completeExceptionally(
              new RaftException(RaftException.Kind.CLOSED, "the Raft node is closed")));
        }
      }
    }
  }
}
