/* Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
 *
 * A model of the pool core's store-buffering handshake (src/core/handshake.h),
 * checked with Spin (tests/model/check.sh). One slot, leased; a releaser
 * returns it on the lock-free path while, under the pool's mutex, a waiter
 * queues for a connection and a closer closes the pool:
 *
 *   releaser (ReturnIdle):  PublishIdle(slot)   then  HandOffNeeded(waiting, closed)
 *                           and, if so, under the mutex: serve the waiter, or close the slot
 *   waiter (WaitForSlot):   Announce(waiting)   then  scan: claim the slot if SeenIdle
 *                           then sleep until served
 *   closer (Close):         Announce(closed)    then  scan: close the slot if SeenIdle
 *
 * Claims are compare-and-swap from IDLE, as in the code (Claim()), so the
 * releaser's serve or close and the scans never both take the slot.
 *
 * What must hold in every execution: the waiter is served (never left asleep
 * beside an idle slot: Spin reports the sleeping waiter as an invalid end
 * state) unless the pool closed, and after close() the slot is not left
 * idle (the assertion at the end).
 *
 * FENCE 1 is the code: every access of the handshake is sequentially
 * consistent, so each side's store is visible before its load, and Spin's
 * interleavings are exactly the executions allowed. FENCE 0 models weaker
 * orders (release stores, acquire or relaxed loads), which let a store wait
 * in a store buffer past the side's own load: each side may then run its
 * load first. With FENCE 0 Spin must find a violation (check.sh requires
 * it), and with NO_HANDOFF too (the releaser never looks at the other
 * side), which shows that the model can fail. */

#ifndef FENCE
#define FENCE 1
#endif

#define INUSE  0
#define IDLE   1
#define CLOSED 2   /* the slot's connection closed */

byte state = INUSE;
bit waiting = 0;
bit closed = 0;
bit served = 0;   /* the waiter has a connection */
bit mu = 0;       /* the pool's mutex */

inline lock()   { atomic { mu == 0 -> mu = 1 } }
inline unlock() { mu = 0 }

/* Claim(): compare-and-swap from IDLE. */
inline claim(ok) { atomic { if :: state == IDLE -> state = INUSE; ok = 1 :: else -> ok = 0 fi } }

proctype Releaser() {
  bit r_waiting, r_closed, ok;
  if
  :: true -> state = IDLE; r_waiting = waiting; r_closed = closed
#if !FENCE
  :: true -> r_waiting = waiting; r_closed = closed; state = IDLE
#endif
  fi;
#ifdef NO_HANDOFF
  r_waiting = 0; r_closed = 0   /* a broken variant: the releaser never looks */
#endif
  if
  :: r_waiting || r_closed ->
     lock();
     /* ServeWaitersLocked(), then close it if closed meanwhile */
     if
     :: waiting && !served -> claim(ok); if :: ok -> served = 1; waiting = 0 :: else -> skip fi
     :: else -> skip
     fi;
     if
     :: closed -> claim(ok); if :: ok && !served -> state = CLOSED :: ok && served -> skip :: else -> skip fi
     :: else -> skip
     fi;
     unlock()
  :: else -> skip
  fi
}

proctype Waiter() {
  bit r_idle, ok;
  lock();
  if
  :: closed -> unlock(); goto end   /* fails with kFailedPrecondition: nothing to serve */
  :: else -> skip
  fi;
  if
  :: true -> waiting = 1; r_idle = (state == IDLE)
#if !FENCE
  :: true -> r_idle = (state == IDLE); waiting = 1
#endif
  fi;
  if
  :: r_idle -> claim(ok); if :: ok -> served = 1; waiting = 0 :: else -> skip fi
  :: else -> skip
  fi;
  unlock();
  /* Asleep on its condition variable until served, or failed by close(). */
  if
  :: served
  :: closed && !waiting
  fi;
end:
  skip
}

proctype Closer() {
  bit r_idle, ok;
  lock();
  if
  :: true -> closed = 1; r_idle = (state == IDLE)
#if !FENCE
  :: true -> r_idle = (state == IDLE); closed = 1
#endif
  fi;
  /* FailWaitersLocked() */
  waiting = 0;
  if
  :: r_idle -> claim(ok); if :: ok -> state = CLOSED :: else -> skip fi
  :: else -> skip
  fi;
  unlock()
}

init {
  atomic {
    run Releaser();
    run Waiter();
    if
    :: true -> run Closer()
    :: true -> skip   /* or no close at all */
    fi
  }
  _nr_pr == 1;   /* all done */
  /* After close() no connection stays idle: the slot is closed, or held
     by the waiter served before the close. */
  assert(!closed || state == CLOSED || served);
  /* Without a close the waiter was served (a sleeping waiter never gets
     here: Spin reports it as an invalid end state). */
  assert(closed || served)
}
