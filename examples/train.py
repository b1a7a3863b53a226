"""A small training loop that publishes its metrics as a real benchmark does: one emit() per
step (loss, learning rate) and one per epoch (validation accuracy, time).

It fits a logistic regression to synthetic data with plain-Python mini-batch SGD, so it needs
nothing but benchmarkai. See fifo mode at work by running it under the local sidecar:

    benchmarkai run -- python3 examples/train.py

Run alone, it is in stdout mode and prints the metric lines among its own output.
"""
import math
import random
import time

import benchmarkai

FEATURES = 8
SAMPLES = 2000
VALIDATION = 400  # samples held out to measure accuracy
BATCH = 100
EPOCHS = 5
LEARNING_RATE = 0.5


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    exp_z = math.exp(z)  # never overflows for z < 0
    return exp_z / (1.0 + exp_z)


def predict(weights, bias, x):
    return sigmoid(bias + sum(w * xi for w, xi in zip(weights, x)))


def synthetic_data(rng):
    """Points around the origin, labelled by a hidden linear model plus noise."""
    hidden = [rng.gauss(0, 1) for _ in range(FEATURES)]
    data = []
    for _ in range(SAMPLES):
        x = [rng.gauss(0, 1) for _ in range(FEATURES)]
        data.append((x, 1 if rng.random() < predict(hidden, 0.0, x) else 0))
    return data


def sgd_step(weights, bias, batch, learning_rate):
    """One gradient step on ``batch``; returns the new (weights, bias) and the batch's log loss."""
    grad_w = [0.0] * FEATURES
    grad_b = 0.0
    loss = 0.0
    for x, y in batch:
        p = predict(weights, bias, x)
        loss -= math.log(max(p if y else 1.0 - p, 1e-12))
        for i, xi in enumerate(x):
            grad_w[i] += (p - y) * xi
        grad_b += p - y
    scale = learning_rate / len(batch)
    weights = [w - scale * g for w, g in zip(weights, grad_w)]
    return weights, bias - scale * grad_b, loss / len(batch)


def accuracy(weights, bias, data):
    return sum((predict(weights, bias, x) >= 0.5) == bool(y) for x, y in data) / float(len(data))


def main():
    rng = random.Random(2024)
    data = synthetic_data(rng)
    validation, train = data[:VALIDATION], data[VALIDATION:]
    weights, bias = [0.0] * FEATURES, 0.0
    step = 0
    for epoch in range(EPOCHS):
        begin = time.time()
        learning_rate = LEARNING_RATE / (1 + epoch)
        rng.shuffle(train)
        for start in range(0, len(train), BATCH):
            weights, bias, loss = sgd_step(weights, bias, train[start:start + BATCH], learning_rate)
            step += 1
            benchmarkai.emit({"epoch": epoch, "step": step, "loss": loss, "lr": learning_rate})
        val_accuracy = accuracy(weights, bias, validation)
        benchmarkai.emit({"epoch": epoch, "val_accuracy": val_accuracy, "epoch_time_s": time.time() - begin})
    print("trained %d steps in %d epochs: validation accuracy %.3f" % (step, EPOCHS, val_accuracy))


if __name__ == "__main__":
    main()
